// Package console is the terminal channel of `intake chat`: it prints the bot's messages,
// numbers the buttons, and reads the student's answers line by line from standard input,
// so a whole conversation can also be piped in from a file.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"intake/bot"
)

// Handler runs turns and delivers counsellor messages; *bot.Engine is one.
type Handler interface {
	Handle(ctx context.Context, in bot.Inbound) (bot.Reply, error)
	Deliver(ctx context.Context, outbox, consumer string, block time.Duration, send func(ctx context.Context, to string, msgs []bot.Message) error) (int, error)
}

// Channel is one terminal conversation.
type Channel struct {
	mu      sync.Mutex // the input loop and the delivery loop both print
	closed  bool
	h       Handler
	key     string
	lang    string
	out     io.Writer
	echo    bool
	buttons []bot.Button
	// Errors receives turn errors for the log; the student sees the engine's calm reply.
	Errors func(error)
}

// Name is the channel's name in sessions, cases and statistics.
const Name = "console"

// maxLine bounds one input line; a longer line is cut to it (the engine then answers that
// the message is too long), so a runaway pipe cannot exhaust memory.
const maxLine = 1 << 20

// New returns a console conversation with key as its conversation key. lang is the language
// hint ("" for the default). With echo, input lines are printed after the prompt, which
// makes a piped transcript readable.
func New(h Handler, key, lang string, out io.Writer, echo bool) *Channel {
	return &Channel{h: h, key: key, lang: lang, out: out, echo: echo, Errors: func(error) {}}
}

// outbox is this conversation's own outbox: a terminal can only show its own messages.
func (c *Channel) outbox() string { return Name + ":" + c.key }

// Run opens the conversation and answers every line of in until it ends or ctx is done.
// Meanwhile messages from a counsellor are printed as they arrive.
func (c *Channel) Run(ctx context.Context, in io.Reader) error {
	ctx, stop := context.WithCancel(ctx)
	delivering := make(chan struct{})
	defer func() {
		stop()
		c.mu.Lock()
		c.closed = true // a delivery still in flight stays in the outbox for next time
		c.mu.Unlock()
		<-delivering // its read ends within deliveryWait; the store may be closed after us
	}()
	go func() {
		defer close(delivering)
		c.deliverLoop(ctx)
	}()
	c.turn(ctx, bot.Inbound{Open: true})
	r := bufio.NewReader(in)
	for {
		fmt.Fprint(c.out, "you> ")
		line, err := readLine(r)
		if errors.Is(err, io.EOF) {
			fmt.Fprintln(c.out)
			return nil
		}
		if err != nil {
			return fmt.Errorf("read input: %w", err)
		}
		if c.echo {
			fmt.Fprintln(c.out, line)
		}
		c.turn(ctx, c.inbound(line))
		if ctx.Err() != nil {
			return nil
		}
	}
}

// readLine reads one line without its newline, keeping at most maxLine bytes of it: the
// rest of an overlong line is read and dropped, so the next line is still a line.
func readLine(r *bufio.Reader) (string, error) {
	var buf []byte
	for {
		chunk, more, err := r.ReadLine()
		if err != nil {
			if errors.Is(err, io.EOF) && len(buf) > 0 {
				return string(buf), nil
			}
			return "", err
		}
		if room := maxLine - len(buf); room > 0 {
			buf = append(buf, chunk[:min(len(chunk), room)]...)
		}
		if !more {
			return string(buf), nil
		}
	}
}

// inbound maps a typed line to a button when it is a button's number or label.
func (c *Channel) inbound(line string) bot.Inbound {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := strings.TrimSpace(line)
	if n, err := strconv.Atoi(t); err == nil && n >= 1 && n <= len(c.buttons) {
		return bot.Inbound{Data: c.buttons[n-1].Data}
	}
	for _, b := range c.buttons {
		if t != "" && strings.EqualFold(t, b.Label) {
			return bot.Inbound{Data: b.Data}
		}
	}
	return bot.Inbound{Text: line}
}

func (c *Channel) turn(ctx context.Context, in bot.Inbound) {
	in.Channel, in.Key, in.LangHint = Name, c.key, c.lang
	in.Reply = bot.Address{Outbox: c.outbox(), Own: true}
	r, err := c.h.Handle(ctx, in)
	if err != nil {
		c.Errors(err)
	}
	c.print(r.Messages)
}

// deliveryWait is how long one read of the outbox waits for a message: short, because
// leaving the chat waits for the read in flight.
const deliveryWait = 250 * time.Millisecond

// deliverLoop prints counsellor messages until ctx ends. A message is acknowledged only
// after it was printed, so one that arrives while the terminal is gone waits for the next
// `intake chat --as` of the same conversation.
func (c *Channel) deliverLoop(ctx context.Context) {
	for ctx.Err() == nil {
		_, err := c.h.Deliver(ctx, c.outbox(), Name, deliveryWait, func(_ context.Context, _ string, msgs []bot.Message) error {
			if !c.print(msgs) {
				return errors.New("terminal closed")
			}
			return nil
		})
		if err != nil && ctx.Err() == nil {
			c.Errors(err)
			select {
			case <-ctx.Done():
			case <-time.After(deliveryWait):
			}
		}
	}
}

// print shows messages; the buttons of the last message with buttons are the ones a
// number refers to.
func (c *Channel) print(msgs []bot.Message) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	for _, m := range msgs {
		if m.Text != "" {
			lines := strings.Split(m.Text, "\n")
			fmt.Fprintf(c.out, "bot> %s\n", lines[0])
			for _, l := range lines[1:] {
				fmt.Fprintf(c.out, "     %s\n", l)
			}
		}
		if len(m.Buttons) > 0 {
			c.buttons = m.Buttons
			for i, b := range m.Buttons {
				fmt.Fprintf(c.out, "     [%d] %s\n", i+1, b.Label)
			}
		}
	}
	return true
}
