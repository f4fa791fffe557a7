package telegram_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWebhookAnswersAfterTheReply: an update is answered 200 only once its reply is out,
// so a replica that dies before cannot lose it. When the reply could not be sent, the
// answer is 503; Telegram delivers the update again, and the reply the engine kept goes
// out then, once.
func TestWebhookAnswersAfterTheReply(t *testing.T) {
	w := newWorld(t)
	r := w.replica("r1", webhook)
	srv := httptest.NewServer(r.ch.WebhookHandler())
	defer srv.Close()
	post := func(update any) int {
		t.Helper()
		body, _ := json.Marshal(update)
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", testSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	s := w.student(918273660, "en")
	if code := post(s.message("/start", nil)); code != http.StatusOK || s.count(greeting) != 1 {
		t.Fatalf("status %d with %d greetings sent: want 200 only once the reply is out", code, s.count(greeting))
	}

	// Telegram fails the first message of the next reply: nothing of it arrives.
	w.api.Fail("sendMessage", s.id, 500, "Internal Server Error", 0, 1)
	tap := s.tapUpdate("I want to report something")
	if code := post(tap); code != http.StatusServiceUnavailable {
		t.Fatalf("reply not sent: status %d, want 503 so Telegram delivers the update again", code)
	}
	if n := s.count(categoryQ); n != 0 {
		t.Fatalf("the category question arrived %d times before the update came again", n)
	}
	if code := post(tap); code != http.StatusOK {
		t.Fatalf("delivered again: status %d, want 200", code)
	}
	if n := s.count(categoryQ); n != 1 {
		t.Errorf("category question sent %d times, want once (the kept reply, the turn not run twice)", n)
	}
	// A third delivery, its reply marked as sent: nothing more.
	if code := post(tap); code != http.StatusOK || s.count(categoryQ) != 1 {
		t.Errorf("third delivery: status %d, category question %d times; want 200 and still once", code, s.count(categoryQ))
	}
}
