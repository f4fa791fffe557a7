package bot

// Inbound is one thing a student sent, as a channel hands it to the engine. It carries a
// pseudonymous key, never a platform id or name.
type Inbound struct {
	Channel string
	// Key is the conversation key from Pseudonyms.Key (or a web session's random secret).
	Key string
	// UpdateID, when set, lets the engine drop an update the platform delivered twice.
	UpdateID string
	// Open means the student opened the conversation (console start, web page load): a new
	// conversation is greeted, an existing one shows where it was.
	Open bool
	// Text is what the student typed; Data is the data of a tapped button (Text is then "").
	Text string
	Data string
	// LangHint is the platform's guess of the student's language (e.g. "de", "en-GB").
	LangHint string
	// Receipt, when set, is a case code and passphrase the student typed to come back to
	// their case in this conversation (the web chat's "I have a receipt").
	Receipt *Receipt
	// Reply is where the channel reaches the student later (counsellor messages); the
	// engine keeps it only sealed. Empty for channels that cannot be reached later.
	Reply Address
}

// Message is one bubble the bot sends. Buttons belong to the message they are attached to.
type Message struct {
	Text    string
	Buttons []Button
}

// Button is one choice; Data comes back in Inbound.Data when it is tapped.
type Button struct {
	Label string
	Data  string
}

// Reply is what one turn produced.
type Reply struct {
	Messages []Message
	// Path lists the flow nodes entered during the turn, for transcript tests and metrics.
	Path []string
	// Repeat is set when the update was handled before: Messages is its reply once more
	// (when it may not have arrived), or nothing.
	Repeat bool
}

// Receipt is what a student keeps to come back to a case: its code and passphrase.
type Receipt struct {
	Code string
	Pass string
}
