package telegramtest

import (
	"strconv"
	"strings"
	"time"
)

// Update is one update as Telegram sends it: a JSON object. A test may add or change
// fields (a photo, another update_id) before it is pushed or posted.
type Update map[string]any

// ID returns the update's update_id.
func (u Update) ID() int64 {
	switch id := u["update_id"].(type) {
	case int64:
		return id
	case int:
		return int64(id)
	case float64:
		return int64(id)
	}
	return 0
}

// User is a Telegram account writing to the bot in a private chat, whose chat id is the
// user id, as in Telegram. The names are optional (Telegram always sends a first name; a
// test can plant recognisable ones to check they are never stored).
type User struct {
	ID   int64
	Lang string // language_code, e.g. "en-GB"; "" sends none
	// IsBot marks another bot.
	IsBot                         bool
	FirstName, LastName, Username string
}

func (u User) json() map[string]any {
	first := u.FirstName
	if first == "" {
		first = "Student"
	}
	m := map[string]any{"id": u.ID, "is_bot": u.IsBot, "first_name": first}
	if u.Lang != "" {
		m["language_code"] = u.Lang
	}
	u.names(m)
	return m
}

// names adds the optional names to a user or chat object.
func (u User) names(m map[string]any) {
	if u.FirstName != "" {
		m["first_name"] = u.FirstName
	}
	if u.LastName != "" {
		m["last_name"] = u.LastName
	}
	if u.Username != "" {
		m["username"] = u.Username
	}
}

// NextUpdateID returns a new update id; every update this server makes takes one.
func (s *Server) NextUpdateID() int64 { return s.nextUpdate.Add(1) }

// TextUpdate is a message from the user in their private chat with the bot. Text starting
// with "/" carries a bot_command entity, as Telegram sends commands; "" sends a message
// without text (add a photo or such to it).
func (s *Server) TextUpdate(from User, text string) Update {
	id := s.NextUpdateID()
	m := map[string]any{"message_id": id, "date": time.Now().Unix(), "from": from.json(), "chat": chatJSON(from.ID, &from)}
	if text != "" {
		m["text"] = text
		if strings.HasPrefix(text, "/") {
			cmd, _, _ := strings.Cut(text, " ")
			m["entities"] = []map[string]any{{"type": "bot_command", "offset": 0, "length": len(cmd)}}
		}
	}
	return Update{"update_id": id, "message": m}
}

// TapUpdate is the callback query of from tapping a button with data on message m, in m's
// chat (a private chat, or a group for a negative chat id).
func (s *Server) TapUpdate(from User, m Message, data string) Update {
	id := s.NextUpdateID()
	chat := chatJSON(m.Chat, nil)
	if m.Chat == from.ID {
		chat = chatJSON(m.Chat, &from)
	}
	return Update{"update_id": id, "callback_query": map[string]any{
		"id": "cb" + strconv.FormatInt(id, 10), "from": from.json(), "chat_instance": "42", "data": data,
		// The date must not be zero: the client reads a message without one as inaccessible.
		"message": map[string]any{"message_id": m.ID, "date": max(m.At.Unix(), 1), "chat": chat, "text": m.Text},
	}}
}
