package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"intake/bot"
	"intake/flows"
)

// editedContent is the default content with the "relation" question renamed, as a support
// officer might publish while students are mid-conversation.
func editedContent(t *testing.T) *bot.Content {
	t.Helper()
	base := defaultContent(t)
	src := string(base.Flows["intake"].Source)
	v := base.Flows["intake"].Version
	src = strings.Replace(src, fmt.Sprintf("version: %d", v), fmt.Sprintf("version: %d", v+1), 1)
	src = strings.ReplaceAll(src, "next: relation", "next: who")
	src = strings.ReplaceAll(src, "  relation:\n", "  who:\n")
	src = strings.ReplaceAll(src, "change.relation, next: relation", "change.relation, next: who")
	f, problems := flows.Parse("intake.yaml", []byte(src))
	if len(problems) > 0 {
		t.Fatalf("edited flow:\n%s", problems.Error())
	}
	c, problems := bot.NewContent([]*flows.Flow{f}, base.Catalog)
	if len(problems) > 0 {
		t.Fatalf("edited content:\n%s", problems.Error())
	}
	return c
}

// TestNewVersionNeverBreaksAConversation: a conversation waiting at a node that the new
// version no longer has finishes on its own version, in this process and in a restarted
// one that only knows the new version; new conversations get the new version.
func TestNewVersionNeverBreaksAConversation(t *testing.T) {
	e, store := newEngine(t)
	old := newStudent(t, e, "en")
	toCategory(t, old)
	old.tap("category.stalking")
	if old.node() != "relation" {
		t.Fatalf("node %q", old.node())
	}
	v2 := editedContent(t)
	if err := e.Publish(context.Background(), v2); err != nil {
		t.Fatal(err)
	}
	old.tap("relation.student_staff")
	v1 := e.Content().Flows["intake"].Version - 1
	if old.node() != "reporter" || old.session().FlowVersion != v1 {
		t.Fatalf("old conversation: node %q version %d", old.node(), old.session().FlowVersion)
	}
	old.say("/back")
	if old.node() != "relation" {
		t.Fatalf("back on the old version: node %q", old.node())
	}

	// A restarted process that only knows version 2 still finishes version 1 from the archive.
	restarted := engineOn(t, store, v2)
	old.e = restarted
	old.tap("relation.student_student")
	if old.node() != "reporter" || old.session().FlowVersion != v1 {
		t.Fatalf("after restart: node %q version %d", old.node(), old.session().FlowVersion)
	}

	fresh := newStudent(t, restarted, "en")
	fresh.key += "-fresh"
	toCategory(t, fresh)
	fresh.tap("category.stalking")
	if fresh.node() != "who" || fresh.session().FlowVersion != v1+1 {
		t.Fatalf("new conversation: node %q version %d", fresh.node(), fresh.session().FlowVersion)
	}
}

// TestInvalidVersionIsRefused: content with a broken script never becomes live.
func TestInvalidVersionIsRefused(t *testing.T) {
	base := defaultContent(t)
	src := strings.Replace(string(base.Flows["intake"].Source), "next: relation", "next: nowhere", 1)
	f, problems := flows.Parse("intake.yaml", []byte(src))
	if len(problems) > 0 {
		t.Fatalf("parse: %v", problems)
	}
	_, problems = bot.NewContent([]*flows.Flow{f}, base.Catalog)
	if len(problems) == 0 || !strings.Contains(problems.Error(), "nowhere") {
		t.Fatalf("a next to nowhere must be refused, got %v", problems)
	}
}
