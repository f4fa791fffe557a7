package discord

import "errors"

// Ready says whether the channel does its work: Run is running and this replica holds the
// gateway lease with the gateway connected, or stands by while another replica holds it.
// The error is a short fixed sentence, for an operator's eyes; it holds no id, token or
// library detail.
func (c *Channel) Ready() error {
	c.mu.Lock()
	stopping, connected := c.stopping, c.gateway
	c.mu.Unlock()
	switch {
	case stopping:
		return errors.New("discord: not running")
	case c.leaseSeen.Elsewhere():
		return nil // another replica holds the gateway
	case !c.leaseSeen.Held():
		return errors.New("discord: gateway lease not taken yet")
	case !connected:
		return errors.New("discord: gateway not connected")
	}
	return nil
}
