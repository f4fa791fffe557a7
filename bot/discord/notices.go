package discord

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"intake/bot"
)

// claimPrefix starts the custom id of a notice's Claim button; the case code follows.
const claimPrefix = "claim:"

// The counsellor channel speaks English, like the desk.
const (
	notCounsellor = "Sorry, only counsellors of the Social Safety Team can claim cases here. Nothing has changed. " +
		"If you are a counsellor, ask the administrator to add your Discord account."
	claimFailed = "The case could not be claimed just now. Please try again, or claim it in the desk."
)

// announceLoop posts every announcement of a case that needs a counsellor into the
// counsellor channel, and acknowledges it once posted. One that cannot be posted stays
// pending and is tried again.
func (c *Channel) announceLoop(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		anns, err := c.ann.ReadAnnouncements(ctx, announceGroup, c.cfg.Replica, 10, c.readWait)
		for _, a := range anns {
			if err = c.announce(ctx, a); err != nil {
				break
			}
			if err = c.ann.AckAnnouncement(context.WithoutCancel(ctx), announceGroup, a.ID); err != nil {
				break
			}
		}
		if err == nil {
			backoff = time.Second
			continue
		}
		if errors.Is(err, ErrTokenRefused) {
			c.fail(ErrTokenRefused)
			return
		}
		if ctx.Err() != nil {
			return
		}
		c.log.Warn("counsellor notice not posted; trying again", "err", err)
		if !pause(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, time.Minute)
	}
}

// announce posts the notice of one announcement. A case that is gone, claimed or closed
// meanwhile needs no notice.
func (c *Channel) announce(ctx context.Context, a bot.Announcement) error {
	det, err := c.desk.Notice(ctx, a.Code)
	switch {
	case errors.Is(err, bot.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("read case for notice: %w", err)
	case det.Status != bot.StatusPending:
		return nil
	}
	return c.post(ctx, c.cfg.CounsellorChannel, c.notice(det, a.Reason))
}

// notice is the message announcing a case: its code, urgency, category, wished outcome and
// waiting time, a link into the desk and a Claim button. Never the story, never anything
// about the student.
func (c *Channel) notice(det *bot.QueueItem, reason string) *discordgo.MessageSend {
	var b strings.Builder
	if reason == "waiting" {
		fmt.Fprintf(&b, "**Still waiting for a counsellor: case %s**\n", det.Code)
	} else {
		fmt.Fprintf(&b, "**New case %s**\n", det.Code)
	}
	if len(det.Urgent) > 0 {
		fmt.Fprintf(&b, "🔴 **Urgent:** %s\n", markdown.Replace(bot.DeskUrgency(det.Urgent)))
	}
	fmt.Fprintf(&b, "Category: %s\n", markdown.Replace(bot.DeskCategory(det.Fields)))
	fmt.Fprintf(&b, "Wished outcome: %s\n", markdown.Replace(bot.DeskValue("outcome", det.Fields)))
	// Discord shows these timestamps in each reader's own time zone and keeps "ago" fresh.
	fmt.Fprintf(&b, "Waiting since: <t:%d:f> (<t:%d:R>)", det.Created.Unix(), det.Created.Unix())
	if c.cfg.DeskURL != "" {
		fmt.Fprintf(&b, "\nOpen in the desk: %scase/%s", c.cfg.DeskURL, det.Code)
	}
	return &discordgo.MessageSend{
		Content:         b.String(),
		AllowedMentions: noMentions(),
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Claim", Style: discordgo.SuccessButton, CustomID: claimPrefix + det.Code},
		}}},
	}
}

// claim claims a case for a configured counsellor and marks the notice claimed; whatever
// goes wrong is told to the counsellor alone.
func (c *Channel) claim(i *discordgo.Interaction, account, code string) {
	ctx, cancel := context.WithTimeout(context.Background(), turnTimeout)
	defer cancel()
	acc, err := c.desk.Account(ctx, account)
	if err == nil && acc == nil {
		c.log.Warn("counsellor in the Discord configuration has no desk account")
		c.followUp(ctx, i, fmt.Sprintf("Your Discord account is linked to the desk account %q, which does not exist. Please ask the administrator.", account))
		return
	}
	if err == nil {
		err = c.desk.Claim(ctx, acc, code)
	}
	switch {
	case err == nil:
		c.markNotice(ctx, i, "✅ Claimed by "+markdown.Replace(acc.Name)+".")
	case errors.Is(err, bot.ErrAlreadyClaimed):
		// Claimed in the desk meanwhile: the notice catches up, so nobody else tries.
		if det, err := c.desk.Notice(ctx, code); err == nil && det.Counsellor != "" {
			c.markNotice(ctx, i, "✅ Claimed by "+markdown.Replace(det.Counsellor)+".")
		}
		c.followUp(ctx, i, "Another counsellor has already claimed this case.")
	case errors.Is(err, bot.ErrCaseClosed):
		c.markNotice(ctx, i, "Closed or withdrawn.")
		c.followUp(ctx, i, "This case is closed or the student withdrew it.")
	case errors.Is(err, bot.ErrNotFound):
		c.markNotice(ctx, i, "No longer exists.")
		c.followUp(ctx, i, "This case no longer exists.")
	case errors.Is(err, bot.ErrForbidden):
		c.followUp(ctx, i, fmt.Sprintf("The desk account %q may not handle cases.", account))
	default:
		c.log.Error("claim from Discord failed", "err", err)
		c.followUp(ctx, i, claimFailed)
	}
}

// markNotice adds a last line to the notice a Claim was pressed on and takes its button
// away.
func (c *Channel) markNotice(ctx context.Context, i *discordgo.Interaction, line string) {
	if i.Message == nil {
		return
	}
	content := strings.TrimSpace(i.Message.Content) + "\n" + line
	none := []discordgo.MessageComponent{}
	_, err := c.rest.ChannelMessageEditComplex(&discordgo.MessageEdit{
		ID: i.Message.ID, Channel: i.ChannelID, Content: &content, Components: &none, AllowedMentions: noMentions(),
	}, discordgo.WithContext(ctx))
	if err != nil {
		c.log.Warn("notice not updated", "err", errorKind(err))
	}
}

// followUp tells the person who pressed a button something only they see.
func (c *Channel) followUp(ctx context.Context, i *discordgo.Interaction, text string) {
	_, err := c.rest.FollowupMessageCreate(i, false, &discordgo.WebhookParams{
		Content: text, Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: noMentions(),
	}, discordgo.WithContext(ctx))
	if err != nil {
		c.log.Warn("follow-up not sent", "err", errorKind(err))
	}
}

// ephemeral is an immediate answer only the presser sees.
func ephemeral(text string) *discordgo.InteractionResponse {
	return &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: text, Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: noMentions()},
	}
}
