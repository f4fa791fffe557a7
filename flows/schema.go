package flows

// Variable is something a flow may ask and store. Coded variables take only the listed
// values, so the registry and the annual statistics can count them; text variables take
// what the student types and never reach the registry.
type Variable struct {
	Name   string
	Text   bool     // free text (encrypted at rest, never counted)
	Values []string // allowed values of a coded variable
	// When makes the variable a follow-up question: it counts only while another variable
	// has one of the listed values, and a new answer to that other variable clears it, so a
	// corrected category asks its sub-question again and a stale sub-answer is never stored.
	When *Condition
}

// Condition is "variable Var has one of Values".
type Condition struct {
	Var    string
	Values []string
}

// Holds reports whether vars satisfy c (a nil condition always holds).
func (c *Condition) Holds(vars map[string]string) bool {
	if c == nil {
		return true
	}
	v, ok := vars[c.Var]
	if !ok {
		return false
	}
	for _, x := range c.Values {
		if x == v {
			return true
		}
	}
	return false
}

// Dependents lists the variables whose When refers to name.
func Dependents(name string) []string {
	var out []string
	for _, v := range Schema {
		if v.When != nil && v.When.Var == name {
			out = append(out, v.Name)
		}
	}
	return out
}

// Schema lists the variables scripts may use. The values are the team's own categories
// (annual report 2025, appendix), so statistics stay comparable between years; a script
// that invents a value is refused by the validator rather than silently miscounted.
var Schema = []Variable{
	{Name: "category", Values: []string{
		"sexual_violence", "inappropriate", "unprofessional", "worrying",
		"unequal_treatment", "intimidation", "discrimination", "bullying",
		"stalking", "aggression", "other",
	}},
	{Name: "sv_kind", Values: []string{"physical", "verbal_online"},
		When: &Condition{Var: "category", Values: []string{"sexual_violence"}}},
	{Name: "aggression_kind", Values: []string{"verbal", "physical", "psychological"},
		When: &Condition{Var: "category", Values: []string{"aggression"}}},
	{Name: "when", Values: []string{"recent", "earlier", "not_said"},
		When: &Condition{Var: "category", Values: []string{"sexual_violence"}}},
	{Name: "relation", Values: []string{"student_student", "student_staff", "student_citizen", "unknown"}},
	{Name: "reporter", Values: []string{"self", "third_student", "third_staff", "third_other"}},
	{Name: "story", Text: true},
	{Name: "outcome", Values: []string{"registration", "advice", "intervention"}},
	{Name: "contact", Values: []string{"chat", "in_person", "teams", "phone"},
		When: &Condition{Var: "outcome", Values: []string{"advice", "intervention"}}},
	{Name: "urgent", Values: []string{"yes", "no"},
		When: &Condition{Var: "outcome", Values: []string{"advice", "intervention"}}},
	{Name: "faculty", Values: []string{"law", "sbe", "fse", "fhml", "fasos", "fpn", "unknown"}},
	{Name: "gender", Values: []string{"woman", "man", "non_binary", "not_said"}},
}

// Lookup returns the variable with the given name.
func Lookup(name string) (Variable, bool) {
	for _, v := range Schema {
		if v.Name == name {
			return v, true
		}
	}
	return Variable{}, false
}

// Allows reports whether value is a valid value of the variable ("" always is: skipped).
func (v Variable) Allows(value string) bool {
	if v.Text || value == "" {
		return true
	}
	for _, x := range v.Values {
		if x == value {
			return true
		}
	}
	return false
}
