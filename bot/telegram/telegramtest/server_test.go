package telegramtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"intake/bot/telegram/telegramtest"
)

const token = "123456789:AAFakeTokenForTheFakeItself_abcdefgh"

// TestPostRetriesUntil2xx: a webhook update is posted with the secret token until an
// attempt is answered 2xx, as Telegram does, and the delivery tells how it went.
func TestPostRetriesUntil2xx(t *testing.T) {
	api := telegramtest.NewServer(token)
	defer api.Close()
	var calls atomic.Int32
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(telegramtest.SecretHeader) != "s3cret-token-for-the-test" {
			http.Error(w, "no secret", http.StatusUnauthorized)
			return
		}
		if calls.Add(1) < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
	}))
	defer bot.Close()
	api.SetWebhook("s3cret-token-for-the-test", bot.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := api.Post(ctx, api.TextUpdate(telegramtest.User{ID: 1}, "/start"))
	if err != nil || d.Attempts != 3 || len(d.Failed) != 2 || d.To != bot.URL || !strings.Contains(d.Failed[0], "503") {
		t.Fatalf("delivery %+v, %v; want 3 attempts, two of them 503", d, err)
	}
	// An address where nothing listens: Post tries until ctx ends, then says so.
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	short, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if d, err := api.Post(short, api.TextUpdate(telegramtest.User{ID: 1}, "hi"), gone.URL); err == nil || d.Attempts < 2 {
		t.Errorf("post to a closed address: %+v, %v; want several attempts, then ctx's error", d, err)
	}
}

// TestRecordsWhatTheBotSends: the real client's messages, buttons, edits and answers are
// recorded per chat, and WaitMessages wakes for them.
func TestRecordsWhatTheBotSends(t *testing.T) {
	api := telegramtest.NewServer(token)
	defer api.Close()
	b, err := tgbot.New(token, tgbot.WithServerURL(api.URL()), tgbot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const chat = 4242
	go func() {
		time.Sleep(20 * time.Millisecond)
		b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chat, Text: "Pick one", ReplyMarkup: models.InlineKeyboardMarkup{
			InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "A", CallbackData: "a"}}}}})
	}()
	msgs, err := api.WaitMessages(ctx, chat, 1)
	if err != nil || msgs[0].Text != "Pick one" || len(msgs[0].Buttons) != 1 || msgs[0].Buttons[0].Data != "a" {
		t.Fatalf("messages %+v, %v", msgs, err)
	}
	if _, err := b.EditMessageReplyMarkup(ctx, &tgbot.EditMessageReplyMarkupParams{ChatID: chat, MessageID: msgs[0].ID}); err != nil {
		t.Fatal(err)
	}
	if m := api.Messages(chat)[0]; !m.Keyboardless || len(m.Buttons) != 0 {
		t.Errorf("after the edit: %+v, want the buttons gone", m)
	}
	tap := api.TapUpdate(telegramtest.User{ID: chat}, msgs[0], "a")
	id := tap["callback_query"].(map[string]any)["id"].(string)
	if ok, err := b.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: id}); !ok || err != nil {
		t.Fatalf("answer: %v %v", ok, err)
	}
	if _, err := b.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: id}); err == nil {
		t.Error("a tap answered twice: Telegram refuses the second answer")
	}
	if a := api.Answers(); len(a) != 1 || a[0].ID != id {
		t.Errorf("answers %+v", a)
	}
	if n := api.CallCount("sendMessage"); n != 1 {
		t.Errorf("%d sendMessage calls counted, want 1", n)
	}
}

// TestGetUpdatesKeepsUntilConfirmed: as Telegram, getUpdates hands out an update until a
// later call's offset passes it, and answers at once while there is one.
func TestGetUpdatesKeepsUntilConfirmed(t *testing.T) {
	api := telegramtest.NewServer(token)
	defer api.Close()
	a, b := api.TextUpdate(telegramtest.User{ID: 1}, "one"), api.TextUpdate(telegramtest.User{ID: 2}, "two")
	api.Push(a, b)
	poll := func(offset int64) []int64 {
		t.Helper()
		body := fmt.Sprintf(`{"offset":%d,"timeout":30}`, offset)
		resp, err := http.Post(api.URL()+"/bot"+token+"/getUpdates", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var answer struct {
			Result []struct {
				ID int64 `json:"update_id"`
			} `json:"result"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, u := range answer.Result {
			ids = append(ids, u.ID)
		}
		return ids
	}
	both := []int64{a.ID(), b.ID()}
	if got := poll(0); !slices.Equal(got, both) {
		t.Fatalf("first poll: %v, want %v", got, both)
	}
	if got := poll(a.ID()); !slices.Equal(got, both) {
		t.Fatalf("nothing confirmed: %v, want both again", got)
	}
	if got := poll(b.ID()); !slices.Equal(got, both[1:]) || !slices.Equal(api.Unconfirmed(), both[1:]) {
		t.Fatalf("first confirmed: got %v, unconfirmed %v; want only the second", got, api.Unconfirmed())
	}
	if got := poll(b.ID() + 1); len(got) != 0 || len(api.Unconfirmed()) != 0 {
		t.Fatalf("both confirmed: got %v, unconfirmed %v; want none", got, api.Unconfirmed())
	}
	if n := api.Handouts(b.ID()); n != 3 {
		t.Errorf("the second update handed out %d times, want 3", n)
	}
	if got := api.Offsets(); !slices.Equal(got, []int64{0, a.ID(), b.ID(), b.ID() + 1}) {
		t.Errorf("offsets recorded %v", got)
	}
}
