package telegram

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"intake/bot"
)

// claimPrefix starts the data of a notice's Claim button.
const claimPrefix = "claim:"

// caseReader is what notices need to know of a case: its coded fields and state, never its
// content. *bot.Desk is one.
type caseReader interface {
	Notice(ctx context.Context, code string) (*bot.QueueItem, error)
	Hours() bot.OfficeHours
}

// announce posts a notice for one announcement, unless the case no longer waits.
func (c *Channel) announce(ctx context.Context, a bot.Announcement) error {
	item, err := c.cases.Notice(ctx, a.Code)
	if errors.Is(err, bot.ErrNotFound) {
		return nil // withdrawn (forgotten) meanwhile, or never a handoff
	}
	if err != nil {
		return fmt.Errorf("read case for a notice: %w", err)
	}
	if item.Status != bot.StatusPending {
		return nil // claimed or closed before the notice went out
	}
	params := &tgbot.SendMessageParams{ChatID: c.cfg.CounsellorGroup, Text: c.noticeText(item, a.Reason)}
	if len(c.cfg.Counsellors) > 0 {
		params.ReplyMarkup = &inlineKeyboard{InlineKeyboard: [][]inlineButton{{{Text: "Claim", CallbackData: claimPrefix + item.Code}}}}
	}
	return c.call(ctx, c.cfg.CounsellorGroup, "sendMessage", func(ctx context.Context) error {
		_, err := c.tg.SendMessage(ctx, params)
		return err
	})
}

// noticeText is a notice as the group sees it: code, urgency, category, wished outcome,
// waiting since and the desk link. Never the story, never anything about the student.
// Counsellors work in English on the desk, so notices use the desk's words.
func (c *Channel) noticeText(item *bot.QueueItem, reason string) string {
	var b strings.Builder
	urgent := reason == "urgent" || len(item.Urgent) > 0
	switch {
	case item.Status == bot.StatusClaimed:
		fmt.Fprintf(&b, "Case %s: claimed by %s.\n", item.Code, item.Counsellor)
	case item.Status != bot.StatusPending:
		fmt.Fprintf(&b, "Case %s: no longer waiting.\n", item.Code)
	case urgent && reason == "waiting":
		fmt.Fprintf(&b, "URGENT, still waiting: case %s has not been claimed yet.\n", item.Code)
	case urgent:
		fmt.Fprintf(&b, "URGENT: case %s needs a counsellor soon.\n", item.Code)
	case reason == "waiting":
		fmt.Fprintf(&b, "Reminder: case %s is still waiting for a counsellor.\n", item.Code)
	default:
		fmt.Fprintf(&b, "New case %s is waiting for a counsellor.\n", item.Code)
	}
	if len(item.Urgent) > 0 {
		fmt.Fprintf(&b, "Urgent: %s\n", bot.DeskUrgency(item.Urgent))
	}
	fmt.Fprintf(&b, "Category: %s\n", bot.DeskCategory(item.Fields))
	fmt.Fprintf(&b, "Wished outcome: %s\n", bot.DeskValue("outcome", item.Fields))
	h := c.cases.Hours()
	since := item.Created.In(h.Loc).Format("Mon 2 Jan 2006, 15:04")
	if item.Waiting >= time.Minute && item.Status == bot.StatusPending {
		since += " (" + waited(item.Waiting, h.WorkingDay()) + " of office time)"
	}
	fmt.Fprintf(&b, "Waiting since: %s\n", since)
	if c.deskURL != "" {
		fmt.Fprintf(&b, "Desk: %scase/%s\n", c.deskURL, item.Code)
	}
	return strings.TrimRight(b.String(), "\n")
}

// Claim replies, shown to the one who tapped.
const (
	claimRefused   = "Sorry, only the team’s counsellors can claim cases here. Nothing has changed."
	claimNoAccount = "Your Telegram account is linked to a desk account that does not exist or is not a counsellor. Nothing has changed; please ask the desk administrator."
	claimDone      = "You have claimed case %s. You find it under “My cases” in the desk."
	claimTaken     = "Another counsellor claimed this case already. Nothing has changed."
	claimGone      = "This case is no longer waiting. Nothing has changed."
	claimFailed    = "That did not work. Please try again, or claim the case in the desk."
)

// claim handles a tap on a notice's Claim button. Only the configured counsellors may
// claim; anyone else gets a polite refusal and nothing changes.
func (c *Channel) claim(ctx context.Context, q *models.CallbackQuery, chat int64, msgID int) {
	code, ok := strings.CutPrefix(q.Data, claimPrefix)
	if !ok || c.cases == nil {
		c.answer(ctx, q.ID, "", false)
		return
	}
	name, ok := c.cfg.Counsellors[q.From.ID]
	if !ok {
		c.answer(ctx, q.ID, claimRefused, true)
		return
	}
	acc, err := c.d.Desk.Account(ctx, name)
	if err != nil {
		c.log.Error("claim from the group failed", "err", err)
		c.answer(ctx, q.ID, claimFailed, true)
		return
	}
	if acc == nil || acc.Role != bot.RoleCounsellor {
		c.log.Warn("claim refused: the configured desk account is missing or not a counsellor", "account", name)
		c.answer(ctx, q.ID, claimNoAccount, true)
		return
	}
	err = c.d.Desk.Claim(ctx, acc, code)
	switch {
	case err == nil:
		c.answer(ctx, q.ID, fmt.Sprintf(claimDone, strings.ToUpper(code)), false)
		c.log.Info("case claimed from the counsellor group")
	case errors.Is(err, bot.ErrAlreadyClaimed):
		c.answer(ctx, q.ID, claimTaken, true)
	case errors.Is(err, bot.ErrCaseClosed), errors.Is(err, bot.ErrNotFound):
		c.answer(ctx, q.ID, claimGone, true)
	default:
		c.log.Error("claim from the group failed", "err", err)
		c.answer(ctx, q.ID, claimFailed, true)
		return
	}
	c.updateNotice(ctx, chat, msgID, code)
}

// updateNotice rewrites a notice to say who has the case now, without the Claim button.
func (c *Channel) updateNotice(ctx context.Context, chat int64, msgID int, code string) {
	text := fmt.Sprintf("Case %s: no longer waiting.", strings.ToUpper(code))
	if item, err := c.cases.Notice(ctx, code); err == nil {
		text = c.noticeText(item, "")
	}
	err := c.call(ctx, chat, "editMessageText", func(ctx context.Context) error {
		_, err := c.tg.EditMessageText(ctx, &tgbot.EditMessageTextParams{ChatID: chat, MessageID: msgID, Text: text, ReplyMarkup: noKeyboard})
		return err
	})
	if err != nil {
		c.log.Warn("notice not updated after a claim", "err", err)
	}
}

// waited says an office-time duration in working days, hours and minutes.
func waited(d, day time.Duration) string {
	var parts []string
	if day > 0 && d >= day {
		n := int(d / day)
		if n == 1 {
			parts = append(parts, "1 working day")
		} else {
			parts = append(parts, fmt.Sprintf("%d working days", n))
		}
		d %= day
	}
	if h := int(d / time.Hour); h > 0 {
		parts = append(parts, fmt.Sprintf("%d h", h))
	}
	if m := int(d % time.Hour / time.Minute); m > 0 {
		parts = append(parts, fmt.Sprintf("%d min", m))
	}
	if len(parts) == 0 {
		return "less than a minute"
	}
	return strings.Join(parts, " ")
}
