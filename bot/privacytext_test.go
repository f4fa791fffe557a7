package bot_test

import (
	"strings"
	"testing"
	"time"

	"intake/bot"
	"intake/bot/bottest"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// privacyText is what a student reads about what is kept: in Dutch and English from the
// menu, in German with the greeting.
func privacyText(t *testing.T, e *bot.Engine, lang string) string {
	t.Helper()
	s := newStudent(t, e, lang)
	s.key += "-" + lang
	r := s.open()
	if lang != "de" {
		r = s.tap("menu.privacy")
	}
	return texts(r)
}

// TestPrivacyTextNamesWhatIsKept: in every language the privacy text names each thing that
// is kept or not kept, in words a student reads, with the configured times.
func TestPrivacyTextNamesWhatIsKept(t *testing.T) {
	e, _ := newEngine(t)
	items := []struct {
		what       string
		nl, en, de string
	}{
		{"the platform knows the account", "kent de app je account", "the app knows your account", "kennt die App dein Konto"},
		{"no platform id, name or number", "We bewaren nooit je naam, gebruikersnaam, telefoonnummer, account-id of IP-adres", "We never store your name, username, phone number, account id or IP address", "Wir speichern nie deinen Namen, Benutzernamen, deine Telefonnummer, Konto-ID oder IP-Adresse"},
		{"only a keyed pseudonym", "code die met een geheime sleutel van je account is gemaakt", "a code made from your account with a secret key", "Code, der mit einem geheimen Schlüssel aus deinem Konto gemacht wird"},
		{"the session and its expiry", "Als je 24 uur lang niets stuurt, verdwijnt dat allemaal", "After 24 hours without a message from you, all of it disappears", "Wenn du 24 Stunden lang nichts schickst, verschwindet das alles"},
		{"what a case holds", "je antwoorden, je verhaal en je berichten met de vertrouwenspersoon", "your answers, your story and your messages with the counsellor", "deine Antworten, deine Geschichte und deine Nachrichten mit der Vertrauensperson"},
		{"who reads a case", "Alleen de vertrouwenspersoon die je melding oppakt, kan hem lezen", "Only the counsellor who takes on your case can read it", "Nur die Vertrauensperson, die deine Meldung übernimmt, kann sie lesen"},
		{"when case content goes", "90 dagen nadat je melding is afgesloten, wissen we je verhaal en de berichten", "90 days after the case is closed, we delete your story and the messages", "90 Tage nach dem Abschluss deiner Meldung löschen wir deine Geschichte und die Nachrichten"},
		{"the registry: year and month", "alleen het jaar en de maand", "only the year and the month", "nur das Jahr und den Monat"},
		{"the registry: no text", "Geen tekst", "No text", "Keinen Text"},
		{"times to the day", "alleen de dag waarop iets in de chat gebeurde, nooit het uur", "only the day something happened in the chat, never the hour", "nur den Tag, an dem im Chat etwas passiert ist, nie die Stunde"},
		{"forget erases", "/forget wist dit gesprek meteen", "/forget erases this conversation at once", "/forget löscht dieses Gespräch sofort"},
	}
	for _, lang := range []string{"nl", "en", "de"} {
		text := privacyText(t, e, lang)
		for _, it := range items {
			want := map[string]string{"nl": it.nl, "en": it.en, "de": it.de}[lang]
			if !strings.Contains(text, want) {
				t.Errorf("%s: the privacy text does not say %s (%q):\n%s", lang, it.what, want, text)
			}
		}
	}
}

// TestPrivacyTextFollowsTheConfiguration: the times in the privacy text are the ones the
// service is configured with, so the text cannot promise what the store does not do.
func TestPrivacyTextFollowsTheConfiguration(t *testing.T) {
	store := redistest.New(t, redis.Options{})
	e, err := bot.NewEngine(bot.Config{Sessions: store, Cases: store, Archive: store, Keys: bottest.Keys(t),
		SessionTTL: 6 * time.Hour, Retention: 45 * 24 * time.Hour}, defaultContent(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		lang      string
		want, not []string
	}{
		{"nl", []string{"6 uur lang", "45 dagen nadat"}, []string{"24 uur", "90 dagen"}},
		{"en", []string{"After 6 hours without", "45 days after"}, []string{"24 hours", "90 days"}},
		{"de", []string{"6 Stunden lang", "45 Tage nach"}, []string{"24 Stunden", "90 Tage"}},
	} {
		text := privacyText(t, e, tt.lang)
		for _, w := range tt.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the text does not say %q:\n%s", tt.lang, w, text)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(text, n) {
				t.Errorf("%s: the text still says the default %q", tt.lang, n)
			}
		}
	}
}

// TestPrivacyDurationsInWords: a configured time is said in its largest whole unit, in
// the student's language, singular or plural, never shorter than it is.
func TestPrivacyDurationsInWords(t *testing.T) {
	for _, tt := range []struct {
		d      time.Duration
		en, nl string
		de     string
	}{
		{24 * time.Hour, "24 hours", "24 uur", "24 Stunden"},
		{time.Hour, "1 hour", "1 uur", "1 Stunde"},
		{48 * time.Hour, "2 days", "2 dagen", "2 Tage"},
		{90 * 24 * time.Hour, "90 days", "90 dagen", "90 Tage"},
		{36 * time.Hour, "36 hours", "36 uur", "36 Stunden"},
		{90 * time.Minute, "90 minutes", "90 minuten", "90 Minuten"},
		{time.Minute, "1 minute", "1 minuut", "1 Minute"},
		{61 * time.Second, "2 minutes", "2 minuten", "2 Minuten"},
	} {
		store := redistest.New(t, redis.Options{})
		e, err := bot.NewEngine(bot.Config{Sessions: store, Cases: store, Keys: bottest.Keys(t), SessionTTL: tt.d}, defaultContent(t))
		if err != nil {
			t.Fatal(err)
		}
		for lang, want := range map[string]string{"en": tt.en, "nl": tt.nl, "de": tt.de} {
			if got := e.PrivacyData(lang)["session_ttl"]; got != want {
				t.Errorf("%v in %s: %q, want %q", tt.d, lang, got, want)
			}
		}
	}
}
