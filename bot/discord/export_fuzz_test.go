package discord

import (
	"net/http"
	"time"

	"github.com/bwmarrin/discordgo"

	"intake/bot/limit"
)

// OnMessage and OnInteraction are the gateway's event handlers.
func OnMessage(c *Channel, m *discordgo.MessageCreate)         { c.onMessage(nil, m) }
func OnInteraction(c *Channel, i *discordgo.InteractionCreate) { c.onInteraction(nil, i) }

// SetHTTPClient makes the channel's REST calls through client.
func SetHTTPClient(c *Channel, client *http.Client) { c.rest.Client = client }

// Settle waits until the work queued so far (turns with their replies, interaction
// responses, claims) is done, and gives the channel new lanes without a rate: the fuzz
// test checks each event's effects before it sends the next, from a few authors.
func Settle(c *Channel) {
	c.lanes.Close()
	c.work.Wait()
	c.lanes = limit.NewLanes(limit.LanesConfig{Rate: limit.Rate{Burst: 1 << 20, Every: time.Nanosecond}})
}
