package flows

import (
	"errors"
	"testing"
)

// Problems print as file:line:col so editors and terminals link to the place, and come
// in reading order.
func TestProblemsPrintInReadingOrder(t *testing.T) {
	ps := Problems{
		{Pos: Pos{File: "b.yaml", Line: 1, Col: 1}, Msg: "in b"},
		{Pos: Pos{File: "a.yaml", Line: 10, Col: 2}, Msg: "line 10"},
		{Pos: Pos{File: "a.yaml", Line: 2, Col: 9}, Msg: "line 2, col 9"},
		{Pos: Pos{File: "a.yaml", Line: 2, Col: 3}, Msg: "line 2, col 3"},
		{Pos: Pos{File: "c.yaml"}, Msg: "whole file"},
		{Msg: "whole folder"},
	}
	ps.Sort()
	want := "whole folder\n" +
		"a.yaml:2:3: line 2, col 3\n" +
		"a.yaml:2:9: line 2, col 9\n" +
		"a.yaml:10:2: line 10\n" +
		"b.yaml:1:1: in b\n" +
		"c.yaml: whole file"
	if got := ps.Error(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// Err gives a nil error for no problems, so `if err := ps.Err(); err != nil` is safe.
func TestProblemsErr(t *testing.T) {
	if err := Problems(nil).Err(); err != nil {
		t.Errorf("no problems gave error %v", err)
	}
	ps := Problems{{Pos: Pos{File: "a.yaml", Line: 1, Col: 1}, Msg: "bad"}}
	var got Problems
	if err := ps.Err(); !errors.As(err, &got) || len(got) != 1 {
		t.Errorf("Err() = %v, want the problems", err)
	}
}
