package bot

// SealedKind says what a sealed value is. With its place (a conversation key, a case code,
// an outbox name) it is what the value is bound to when sealed: a value copied to another
// place, or read as another kind, does not open.
type SealedKind string

// The kinds of sealed values in storage.
const (
	SealedSession SealedKind = "session" // a whole session; place: the conversation key
	SealedStory   SealedKind = "story"   // a case's story; place: the case code
	SealedAddress SealedKind = "address" // a case's return address; place: the case code
	SealedEntry   SealedKind = "entry"   // the text of a thread entry; place: the case code
	SealedOutbox  SealedKind = "outbox"  // a delivery waiting in an outbox; place: the outbox name
	SealedClock   SealedKind = "clock"   // an open case's exact times; place: the case code
)

// SealedKinds lists every kind, in the order key rotation reports them.
var SealedKinds = []SealedKind{SealedSession, SealedStory, SealedAddress, SealedEntry, SealedOutbox, SealedClock}

// sealPrefixes start the context of each kind. They are part of every stored value:
// changing one makes the values already stored unreadable.
var sealPrefixes = map[SealedKind]string{
	SealedSession: "session:",
	SealedStory:   "story:",
	SealedAddress: "addr:",
	SealedEntry:   "thread:",
	SealedOutbox:  "out:",
	SealedClock:   "clock:",
}

// sealContext is what a value of kind kept at place is bound to.
func sealContext(kind SealedKind, place string) []byte {
	return []byte(sealPrefixes[kind] + place)
}

// SealedPart is one sealed field of a case, for key rotation.
type SealedPart struct {
	Kind  SealedKind
	Value *[]byte
}

// SealedParts returns the sealed fields of c (empty ones too), each with its kind; their
// place is c.Code. Key rotation seals them again through these pointers, so a sealed field
// added to Case is added here.
func (c *Case) SealedParts() []SealedPart {
	return []SealedPart{{SealedStory, &c.Story}, {SealedAddress, &c.ReturnAddr}, {SealedClock, &c.Clock}}
}
