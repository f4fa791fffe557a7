package telegram

import "time"

// SetDrainGrace sets how long updates taken in are still handled once Run's context ended
// (zero: not at all), so a test can stop a replica as a crash would leave its updates.
// Call it before that context ends.
func SetDrainGrace(c *Channel, d time.Duration) { c.drainGrace = d }
