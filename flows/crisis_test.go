package flows

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// The shipped list has at least this many examples per language that must and must not
// trigger (issue 7); Check runs them in `intake flows validate`, TestDefaultCrisisExamples
// here.
const minCrisisExamples = 40

func defaultCrisis(t testing.TB) *Crisis {
	t.Helper()
	c, probs := LoadCrisis(Default)
	if len(probs) > 0 {
		t.Fatalf("the shipped crisis.yaml has problems:\n%s", probs)
	}
	return c
}

// The shipped list must be fit to go live: readable, every phrase usable, every example
// behaving as written, and enough examples in each language.
func TestDefaultCrisisIsValid(t *testing.T) {
	c := defaultCrisis(t)
	if probs := c.Check(); len(probs) > 0 {
		t.Errorf("the shipped crisis.yaml does not pass its own check:\n%s", probs)
	}
	for _, lang := range crisisLangs {
		if n := len(c.Phrases[lang]); n == 0 {
			t.Errorf("no %s phrases", lang)
		}
		if n := len(c.Triggers[lang]); n < minCrisisExamples {
			t.Errorf("%d %s examples that must trigger, want at least %d", n, lang, minCrisisExamples)
		}
		if n := len(c.Ignores[lang]); n < minCrisisExamples {
			t.Errorf("%d %s examples that must not trigger, want at least %d", n, lang, minCrisisExamples)
		}
	}
	want := Numbers{
		Emergency: "112", SexualViolenceCentre: "0800-0188", SuicideLine: "113",
		SuicideLineFree: "0800-0113", VictimSupport: "0900-0101", Police: "0900-8844",
	}
	got := c.Numbers
	got.Pos, want.Pos = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("numbers = %+v, want the DESIGN.md §5 numbers %+v", got, want)
	}
}

// Each example of the shipped file, run as its own test so a failure names the sentence.
func TestDefaultCrisisExamples(t *testing.T) {
	c := defaultCrisis(t)
	for _, lang := range crisisLangs {
		for _, ex := range c.Triggers[lang] {
			t.Run("trigger/"+lang+"/"+ex.Text, func(t *testing.T) {
				if !c.Match(ex.Text) {
					t.Errorf("%v: %q must trigger", ex.Pos, ex.Text)
				}
			})
		}
		for _, ex := range c.Ignores[lang] {
			t.Run("ignore/"+lang+"/"+ex.Text, func(t *testing.T) {
				if res := c.matcher().find(ex.Text); res.phrase != nil {
					t.Errorf("%v: %q must not trigger, but matches %q", ex.Pos, ex.Text, res.phrase.text)
				}
			})
		}
	}
}

// More sentences for the shipped list, beyond what the support officer's file shows:
// typing mistakes, spelling variants and idioms.
func TestDefaultCrisisMore(t *testing.T) {
	c := defaultCrisis(t)
	tests := []struct {
		text string
		want bool
	}{
		// typing mistakes in long words
		{"ik wil niet meer lveen", true},
		{"ik wil niet meer levne", true},
		{"ik denk aan zelfmrood", true},
		{"ik heb zelfmoordgedachtes", true},
		{"hij heeft me verkrcht", true},
		{"I want to kil myself", true},   // a doubled letter counts once, so kil is kill
		{"i want to end my lfie", false}, // life is too short a word to allow a mistake
		{"i want to end my liiife", true},
		{"I feel suicdal", true},
		{"im so suicidal rn", true},
		{"he has a knfie", true},
		{"i want to dei", false}, // die is too short to allow a mistake
		{"ik wil doof", false},   // dood likewise
		// spelling variants
		{"ik wil een eind aan mijn leven maken", true},
		{"Ik wil er een einde aan maken.", true},
		{"I cant take it anymore", true},
		{"I can’t take it anymore", true},
		{"I CAN'T TAKE IT ANYMORE", true},
		{"self-harm", true},
		{"I have been selfharming", true},
		{"ik ben vannacht verkracht, wat moet ik doen?", true},
		{"he's following me home", true},
		// someone else in danger: the numbers help a friend too
		{"my friend wants to kill herself", true},
		{"ze wil zichzelf iets aandoen", true},
		// idioms and harmless words
		{"dood moe", false},
		{"ik ben dood- en doodmoe", false},
		{"she is killing it", false},
		{"the deadline is killing me", false},
		{"this exam is going to kill me", false},
		{"ik lach me dood", false},
		{"de dood van mijn oma", false},
		{"we watched Suicide Squad, and later I thought about suicide", true}, // the second one counts
		{"he kept hitting on me", false},
		{"he is hitting me", true},
		{"", false},
		{"🙂🙂🙂", false},
	}
	for _, tt := range tests {
		if got := c.Match(tt.text); got != tt.want {
			t.Errorf("Match(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

// rulesCrisis is a small list for testing the matching rules apart from the shipped
// phrases, which the support officer may change.
const rulesCrisis = `numbers: {emergency: "112", sexual_violence_centre: "0800-0188", suicide_line: "113", suicide_line_free: "0800-0113", victim_support: "0900-0101", police: "0900-8844"}
phrases:
  nl: [ik wil niet meer leven, zelfmoord*, ik wil er niet meer zijn]
  en: [i want to die, kill myself, "can't go on anymore", self harm]
except:
  en: [die of embarrassment]
`

func TestCrisisMatchRules(t *testing.T) {
	c, probs := ParseCrisis("rules.yaml", []byte(rulesCrisis))
	if probs = append(probs, c.Check()...); len(probs) > 0 {
		t.Fatal(probs)
	}
	tests := []struct {
		name string
		text string
		want bool
	}{
		{"as written", "ik wil niet meer leven", true},
		{"inside a longer message", "Sinds het gebeurde denk ik: ik wil niet meer leven. Wat nu?", true},
		{"upper case", "IK WIL NIET MEER LEVEN", true},
		{"accents", "Ik wíl niet méér lëven", true},
		{"full-width letters", "ＩＫ ＷＩＬ ＮＩＥＴ ＭＥＥＲ ＬＥＶＥＮ", true},
		{"ligature ĳ", "ik wil er niet meer zĳn", true},
		{"punctuation", "ik, wil... niet (meer) leven?!", true},
		{"emoji between words", "ik wil 😢 niet meer 🙏 leven", true},
		{"line breaks", "ik wil\nniet meer\r\nleven", true},
		{"repeated letters", "iiik wiiil niet meeeer leeeeven", true},
		{"a letter missing", "ik wil niet meer lven", true},
		{"a letter added", "ik wil niet meer leaven", true},
		{"a letter changed", "ik wil niet meer leben", true},
		{"two letters swapped", "ik wil niet meer lveen", true},
		{"two mistakes", "ik wil niet meer lebem", false},
		{"a mistake in a short word", "ik wol niet meer leven", false},
		{"a doubled letter dropped in a short word", "ik wil niet mer leven", true},
		{"one extra word", "ik wil echt niet meer leven", true},
		{"one extra word in each gap", "ik wil echt niet nog meer leven", true},
		{"two extra words", "ik wil nu echt niet meer leven", false},
		{"other order", "leven wil ik niet meer", false},
		{"part of a word", "ik wil niet meer levensverzekeringen", false},
		{"word ending in *", "ik heb zelfmoordgedachten", true},
		{"word ending in *, the word itself", "zelfmoord", true},
		{"word ending in *, shorter word", "zelfmoor", false},
		{"word ending in *, a mistake", "zelfmorod", false},
		{"English phrase in a Dutch message", "ik weet het niet meer, i want to die", true},
		{"apostrophe", "I can't go on anymore", true},
		{"no apostrophe", "I cant go on anymore", true},
		{"curly apostrophe", "I can’t go on anymore", true},
		{"apostrophe as a space", "I can t go on anymore", false},
		{"hyphen", "I self-harm", true},
		{"hyphen left out", "I selfharm", false},
		{"exception", "I want to die of embarrassment", false},
		{"exception, and the phrase elsewhere", "I want to die of embarrassment. I want to die.", true},
		{"exception with a doubled letter dropped", "I want to die of embarassment", false},
		{"exception with a mistake does not cancel", "I want to die of embarrassmnet", true},
		{"longer word that starts the same", "skill myself", false},
		{"empty", "", false},
		{"only punctuation", "?!... 🙂", false},
		{"invalid UTF-8", "i want to \xffdie", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Match(tt.text); got != tt.want {
				t.Errorf("Match(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

// A Crisis made by hand, without ParseCrisis, still matches; a nil one matches nothing.
func TestCrisisMatchWithoutParse(t *testing.T) {
	c := &Crisis{Phrases: map[string][]Phrase{"en": {{Text: "i want to die", Lang: "en"}}}}
	if !c.Match("I really want to die") {
		t.Error("a hand-made Crisis does not match its phrase")
	}
	var none *Crisis
	if none.Match("i want to die") {
		t.Error("a nil Crisis matches")
	}
}

func TestOneEditApart(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"leven", "leven", true},
		{"leven", "lven", true},
		{"leven", "levens", true},
		{"leven", "xleven", true},
		{"leven", "lezen", true},
		{"leven", "elven", true},
		{"leven", "levne", true},
		{"leven", "lveen", true},
		{"leven", "lvene", false},
		{"leven", "lebem", false},
		{"leven", "le", false},
		{"leven", "", false},
		{"", "a", true},
		{"overdose", "overdue", false},
		{"überall", "uberall", true}, // not reached by matching, where accents are gone
		{"zürich", "zurüch", false},
		{"añob", "aoñb", true},
		{"añob", "añb", true},
		{"ñ", "ü", true},
	}
	for _, tt := range tests {
		if got := oneEditApart(tt.a, tt.b); got != tt.want {
			t.Errorf("oneEditApart(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := oneEditApart(tt.b, tt.a); got != tt.want {
			t.Errorf("oneEditApart(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
}

// Every kind of mistake in a crisis file has a small file in testdata/crisis; parsing and
// checking each must produce exactly these lines, in this order.
func TestCrisisProblems(t *testing.T) {
	numbers := "emergency, sexual_violence_centre, suicide_line, suicide_line_free, victim_support, police"
	tests := []struct {
		file string
		want []string
	}{
		{"syntax.yaml", []string{
			`syntax.yaml:2:14: this is not valid YAML (could not find end character of double-quoted text): check the indentation, colons, quotes and brackets here`,
		}},
		{"missing.yaml", []string{
			`missing.yaml:1:1: the crisis file has no numbers: add "numbers:" with the 24/7 numbers the bot shows under it (` + numbers + `)`,
			`missing.yaml:1:1: the crisis file has no phrases: add "phrases:" with a list for each language under it (nl:, en:)`,
		}},
		{"unknown_field.yaml", []string{
			`unknown_field.yaml:1:1: "numbers" has no police: add a line like "police: 0900-8844" under numbers`,
			`unknown_field.yaml:1:1: the crisis file has no phrases: add "phrases:" with a list for each language under it (nl:, en:)`,
			`unknown_field.yaml:7:3: unknown field "polise" in "numbers" (did you mean "police"?); "numbers" can have: ` + numbers,
			`unknown_field.yaml:8:1: unknown field "phrase" in the crisis file (did you mean "phrases"?); the crisis file can have: numbers, phrases, except, tests`,
			`unknown_field.yaml:11:3: unknown field "triggers" in "tests" (did you mean "trigger"?); "tests" can have: trigger, ignore`,
		}},
		{"unknown_language.yaml", []string{
			`unknown_language.yaml:3:3: language "NL" is not known here (did you mean "nl"?): list the phrases under nl or en`,
			`unknown_language.yaml:4:3: language "de" is not known here: list the phrases under nl or en`,
			`unknown_language.yaml:6:3: language "en" appears twice (first at line 5): remove or rename this one`,
		}},
		{"wrong_type.yaml", []string{
			`wrong_type.yaml:1:10: "numbers" must be a set of fields (` + numbers + `), each written as name: value`,
			`wrong_type.yaml:3:7: "nl" must be a list, even with one item: write nl: [ik wil dood]`,
			`wrong_type.yaml:6:6: an item of "en" is empty: write a value or remove the empty item`,
			`wrong_type.yaml:7:7: each item of "en" must be a single value, like i want to die`,
			`wrong_type.yaml:8:9: "except" must have a list of harmless phrases for each language, each under nl: or en: on a line of its own`,
			`wrong_type.yaml:10:12: "trigger" must have a list of examples for each language, each under nl: or en: on a line of its own`,
		}},
		{"bad_phrases.yaml", []string{
			`bad_phrases.yaml:5:7: the phrase "Ik wil DOOD!" is already listed at line 4 (they read the same once case, accents and punctuation are left out): remove one`,
			`bad_phrases.yaml:6:7: the phrase "!!! 🙂" has no letters or digits, so it can never match: write it in words, or remove it`,
			`bad_phrases.yaml:7:7: in the phrase "zelf*moord", * may only end a word, as in zelfmoord*: move the * to the end of the word or remove it`,
			`bad_phrases.yaml:8:7: in the phrase "dood*", "dood*" is too short to end in *: write at least 5 letters before the *, or it matches too many words`,
			`bad_phrases.yaml:9:7: the phrase "een twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien vijftien zestien zeventien" has 17 words; it may have at most 16: keep only the words that matter`,
			`bad_phrases.yaml:15:7: the exception "dead tired" shares no word with any phrase, so it can never cancel one: an exception is a harmless use of a phrase and must contain at least one of its words, as in "die of embarrassment" for "i want to die"`,
		}},
		{"bad_numbers.yaml", []string{
			`bad_numbers.yaml:6:19: the number "--" for victim_support may only contain digits, spaces, dashes and +, like 0900-0101`,
			`bad_numbers.yaml:7:11: the number "0900-POLITIE" for police may only contain digits, spaces, dashes and +, like 0900-8844`,
		}},
		{"failing_tests.yaml", []string{
			`failing_tests.yaml:11:9: "ik trek het niet meer" must trigger, but matches no phrase: add a phrase under phrases: that covers it`,
			`failing_tests.yaml:13:9: "I want to die of shame, he hurt me so much" must trigger, but the phrase "i want to die" (line 4) is cancelled by the exception "want to die of" (line 6): make the exception more precise`,
			`failing_tests.yaml:16:9: "this exam killed me" must not trigger, but matches the phrase "killed me" (line 4): make the phrase more precise, or add an exception under except:`,
			`failing_tests.yaml:18:9: the example "I could kill for a coffee" is already listed at line 17: remove one`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			src, err := os.ReadFile("testdata/crisis/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			c, probs := ParseCrisis(tt.file, src)
			probs = append(probs, c.Check()...)
			if got, want := probs.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// Everything is read with the place an editor shows, also from a file saved on Windows.
func TestParseCrisisPositions(t *testing.T) {
	src := "numbers:\n  emergency: \"112\"\n  sexual_violence_centre: \"0800-0188\"\n  suicide_line: 113\n" +
		"  suicide_line_free: \"0800-0113\"\n  victim_support: \"0900-0101\"\n  police: 0900-8844\n" +
		"phrases:\n  nl: [ik wil dood]\n  en:\n    - i want to die\n" +
		"except:\n  en: [die of embarrassment]\n" +
		"tests:\n  trigger:\n    nl: [\"ik wil dood!\"]\n  ignore:\n    en: [dead tired]\n"
	for _, variant := range []string{src, "\uFEFF" + strings.ReplaceAll(src, "\n", "\r\n")} {
		c, probs := ParseCrisis("c.yaml", []byte(variant))
		if probs = append(probs, c.Check()...); len(probs) > 0 {
			t.Fatal(probs)
		}
		at := func(p Pos) Pos { return Pos{File: "c.yaml", Line: p.Line, Col: p.Col} }
		checks := []struct {
			what string
			got  Pos
			want Pos
		}{
			{"emergency", c.Numbers.Pos["emergency"], at(Pos{Line: 2, Col: 14})},
			{"police", c.Numbers.Pos["police"], at(Pos{Line: 7, Col: 11})},
			{"nl phrase", c.Phrases["nl"][0].Pos, at(Pos{Line: 9, Col: 8})},
			{"en phrase", c.Phrases["en"][0].Pos, at(Pos{Line: 11, Col: 7})},
			{"exception", c.Except["en"][0].Pos, at(Pos{Line: 13, Col: 8})},
			{"trigger", c.Triggers["nl"][0].Pos, at(Pos{Line: 16, Col: 10})},
			{"ignore", c.Ignores["en"][0].Pos, at(Pos{Line: 18, Col: 10})},
		}
		for _, ck := range checks {
			if ck.got != ck.want {
				t.Errorf("%s at %v, want %v", ck.what, ck.got, ck.want)
			}
		}
		if c.Numbers.SuicideLine != "113" || c.Numbers.Police != "0900-8844" {
			t.Errorf("numbers not read as written: %+v", c.Numbers)
		}
		if ex := c.Triggers["nl"][0]; ex.Text != "ik wil dood!" || ex.Lang != "nl" {
			t.Errorf("trigger = %+v", ex)
		}
	}
}

// LoadCrisis reads crisis.yaml from the folder; without it, it says what to do.
func TestLoadCrisis(t *testing.T) {
	c, probs := LoadCrisis(fstest.MapFS{CrisisFile: file("phrases:\n  en: [i want to die]\nnumbers: {}\n")})
	if len(probs) != 6 || !c.Match("i want to die") {
		t.Errorf("LoadCrisis = %d phrases, problems:\n%s", len(c.Phrases["en"]), probs)
	}
	c, probs = LoadCrisis(fstest.MapFS{"intake.yaml": file("id: intake\n")})
	want := "crisis.yaml: the crisis phrase list is missing: the bot needs it to recognise a student in danger, so copy crisis.yaml from the shipped flows folder (flows/crisis.yaml in the intake source) into this folder and adapt it"
	if probs.Error() != want {
		t.Errorf("problems:\n%s\nwant:\n%s", probs, want)
	}
	if c == nil || c.Match("i want to die") {
		t.Error("a missing list must give an empty Crisis, not nil")
	}
}

// The crisis list is not a flow: Load leaves it out, even though it ends in .yaml.
func TestLoadSkipsCrisisFile(t *testing.T) {
	fsys := fstest.MapFS{
		"intake.yaml": file(strings.Replace(tinyFlow, "%s", "intake", 1)),
		CrisisFile:    file("numbers: {}\nphrases: {}\n"),
	}
	loaded, probs := Load(fsys)
	if len(probs) > 0 || len(loaded) != 1 || loaded[0].ID != "intake" {
		t.Errorf("Load = %d flows, problems:\n%s", len(loaded), probs)
	}
	if _, err := Default.Open(CrisisFile); err != nil {
		t.Errorf("crisis.yaml is not embedded: %v", err)
	}
}

// Any file: no panic, every problem and every phrase at a real place, and Check and Match
// work on whatever was read.
func FuzzParseCrisis(f *testing.F) {
	seedFiles(f, func(name string) bool { return strings.Contains(name, "crisis") })
	fixtures, _ := filepath.Glob("testdata/crisis/*.yaml")
	for _, p := range fixtures {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte("phrases:\n  nl: [\"zelf*\", \"**\", \"a*b\", ik wil dood]\nexcept:\n  en: [\"dood\"]\ntests:\n  trigger:\n    nl: [\"\"]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		const name = "fuzz.yaml"
		c, probs := ParseCrisis(name, src)
		if c == nil {
			t.Fatal("ParseCrisis returned no Crisis")
		}
		requireProblemsInside(t, src, name, probs)
		requireProblemsInside(t, src, name, c.Check())
		for _, lists := range []map[string][]Phrase{c.Phrases, c.Except} {
			for _, ps := range lists {
				for _, p := range ps {
					requireInside(t, src, name, p.Pos, "phrase "+p.Text)
					c.Match(p.Text)
				}
			}
		}
		for _, lists := range []map[string][]Example{c.Triggers, c.Ignores} {
			for _, exs := range lists {
				for _, ex := range exs {
					requireInside(t, src, name, ex.Pos, "example "+ex.Text)
				}
			}
		}
		for number, pos := range c.Numbers.Pos {
			requireInside(t, src, name, pos, "number "+number)
		}
	})
}

// Match never panics, and does not depend on case or on punctuation between words.
func FuzzCrisisMatch(f *testing.F) {
	c := defaultCrisis(f)
	for _, lists := range []map[string][]Example{c.Triggers, c.Ignores} {
		for _, exs := range lists {
			for _, ex := range exs {
				f.Add(ex.Text)
			}
		}
	}
	f.Add("ſelf harm")
	f.Add("KILL MYSELF")
	f.Add("ik wil niet meer le\u0301ven")
	f.Add("i want to \xffdie")
	f.Add("kill\u0345 myself")      // a combining mark that upper-cases to a letter
	f.Add("İ want to dıe, ǅ, ẞ, K") // letters whose case forms differ in Unicode
	f.Add(strings.Repeat("ik wil ", 600))
	f.Fuzz(func(t *testing.T, text string) {
		want := c.Match(text)
		variants := map[string]string{
			"upper":       strings.ToUpper(text),
			"lower":       strings.ToLower(text),
			"punctuation": "¡" + strings.ReplaceAll(text, " ", " , ") + "?!…",
			"newlines":    strings.ReplaceAll(text, " ", "\n"),
		}
		for name, v := range variants {
			if got := c.Match(v); got != want {
				t.Errorf("Match(%q) = %v, but Match of its %s variant %q = %v", text, want, name, v, got)
			}
		}
	})
}

// Windows line ends must not move anything; this is also checked above, here for the
// shipped file as a whole.
func TestDefaultCrisisWindowsLineEnds(t *testing.T) {
	src, err := Default.ReadFile(CrisisFile)
	if err != nil {
		t.Fatal(err)
	}
	unix, _ := ParseCrisis(CrisisFile, src)
	windows, probs := ParseCrisis(CrisisFile, bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n")))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	for _, lang := range crisisLangs {
		for i, p := range unix.Phrases[lang] {
			if windows.Phrases[lang][i] != p {
				t.Fatalf("phrase %d: %+v, with CRLF %+v", i, p, windows.Phrases[lang][i])
			}
		}
	}
}

// MatchLanguage tells the language of the list a phrase is in: the engine uses it to
// answer a student whose platform gave no language in the language they wrote in.
func TestCrisisMatchLanguage(t *testing.T) {
	c := defaultCrisis(t)
	for _, tt := range []struct{ text, lang string }{
		{"ik wil niet meer leven", "nl"},
		{"hij staat voor mijn deur", "nl"},
		{"I want to kill myself", "en"},
		{"someone is following me right now", "en"},
		{"this exam killed me", ""},
		{"", ""},
	} {
		lang, ok := c.MatchLanguage(tt.text)
		if lang != tt.lang || ok != (tt.lang != "") {
			t.Errorf("MatchLanguage(%q) = %q, %v; want %q", tt.text, lang, ok, tt.lang)
		}
	}
	// Over the shipped examples the hint is nearly always right; a phrase that reads the
	// same in both lists ("suïcid*", "suicid*") may name the other language.
	right, all := 0, 0
	for _, lang := range crisisLangs {
		for _, ex := range c.Triggers[lang] {
			all++
			if got, _ := c.MatchLanguage(ex.Text); got == lang {
				right++
			}
		}
	}
	if right < all*95/100 {
		t.Errorf("the language of %d of %d trigger examples is right, want at least 95%%", right, all)
	}
}
