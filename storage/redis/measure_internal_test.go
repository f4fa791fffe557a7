package redis

import "testing"

// TestKeyKind: every key the store writes is counted under the kind `intake bench`
// reports it as; a new kind of key left out would show up as "other".
func TestKeyKind(t *testing.T) {
	s := &Store{prefix: "p:", cases: newCaseCap(Options{})}
	tests := []struct{ key, kind string }{
		{s.sessionKeys("K")[0], "sessions"},
		{s.sessionKeys("K")[1], "session locks"},
		{s.sentKey("K"), "delivery marks"},
		{s.flowKey("intake", "abc"), "flow archive"},
		{s.caseKey("ABCD-1234"), "cases"},
		{s.intakeKey("0123"), "case by intake"},
		{s.pendingKey(), "case indexes"},
		{s.openKey(), "case indexes"},
		{s.doneKey(), "case indexes"},
		{s.threadKey("ABCD-1234"), "case threads"},
		{s.registryKey(2026), "registry"},
		{s.caseCapKey(), "case cap"},
		{s.announceKey(), "announcements"},
		{s.outboxKey("telegram"), "outboxes"},
		{s.accountKey("anna"), "desk"},
		{s.accountsKey(), "desk"},
		{s.loginKey("h"), "desk"},
		{s.failKey("anna"), "desk"},
		{s.auditKey(), "desk"},
		{s.leaseKey("telegram-poll"), "leases"},
		{s.floorKey("1-0"), "floor"},
		{"p:something new", "other"},
	}
	for _, tt := range tests {
		if got := keyKind(tt.key[len(s.prefix):]); got != tt.kind {
			t.Errorf("keyKind(%q) = %q, want %q", tt.key, got, tt.kind)
		}
	}
}
