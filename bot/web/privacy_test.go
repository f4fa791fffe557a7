package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"intake/bot"
	"intake/bot/bottest"
	"intake/bot/web"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// TestPrivacyPageSaysWhatIsKept: the web chat's privacy page holds the bot's privacy text,
// in the visitor's language, with the times the service is configured with.
func TestPrivacyPageSaysWhatIsKept(t *testing.T) {
	store := redistest.New(t, redis.Options{})
	e, err := bot.NewEngine(bot.Config{Sessions: store, Cases: store, Archive: store, Outbox: store,
		Keys: bottest.Keys(t), SessionTTL: 12 * time.Hour, Retention: 30 * 24 * time.Hour}, bottest.DefaultContent(t))
	if err != nil {
		t.Fatal(err)
	}
	names, err := bot.NewPseudonyms([]byte("a pepper for the privacy page test, 32+ bytes"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.NewChat(e, names, web.ChatOptions{Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	for _, tt := range []struct {
		lang string
		want []string
	}{
		{"en", []string{"<h2>What we keep, and for how long</h2>", "We never store your name, username, phone number, account id or IP address",
			"After 12 hours without a message from you", "30 days after the case is closed", "only the year and the month", "never the hour"}},
		{"nl", []string{"<h2>Wat we bewaren, en hoe lang</h2>", "We bewaren nooit je naam",
			"Als je 12 uur lang niets stuurt", "30 dagen nadat je melding is afgesloten", "alleen het jaar en de maand", "nooit het uur"}},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/chat/privacy", nil)
		req.Header.Set("Accept-Language", tt.lang)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: privacy page %d", tt.lang, resp.StatusCode)
		}
		mustContain(t, string(body), tt.want...)
		mustNotContain(t, string(body), "24 hours", "24 uur", "90 days", "90 dagen")
	}
}
