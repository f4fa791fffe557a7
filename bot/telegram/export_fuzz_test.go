package telegram

import "github.com/go-telegram/bot/models"

// HandleNow serves u as dispatch does, but at once and in the caller's goroutine (no lane,
// no rate limit), and reports whether the channel serves such an update at all. The fuzz
// test checks each update's effects before it sends the next.
func HandleNow(c *Channel, u *models.Update) bool {
	chat, student, ok := c.route(u)
	if !ok {
		return false
	}
	var b beforeTurn
	if student {
		// The rate limit's view of the update must hold for any update too.
		b = beforeTurn{chat: chat, in: c.peek(u, chat)}
	}
	c.handle(u, b)
	return true
}
