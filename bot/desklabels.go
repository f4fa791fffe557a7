package bot

import "strings"

// The desk is English; these are its names for the coded answers of an intake. A value
// without a name (a newer script) shows as itself, readable enough.
var (
	deskFieldNames = map[string]string{
		"category": "Category", "sv_kind": "Kind of sexual violence", "aggression_kind": "Kind of aggression",
		"relation": "Relation", "reporter": "Reported by", "outcome": "Wished outcome",
		"contact": "Preferred contact", "faculty": "Faculty", "gender": "Gender",
		"when": "When it happened", "urgent": "Student asks for urgent help",
	}
	deskFieldOrder = []string{"category", "sv_kind", "when", "aggression_kind", "relation", "reporter", "outcome", "contact", "urgent", "faculty", "gender"}
	deskValues     = map[string]map[string]string{
		"category": {
			"sexual_violence": "Sexual violence", "inappropriate": "Inappropriate behaviour",
			"unprofessional": "Unprofessional behaviour", "worrying": "Worrying behaviour",
			"unequal_treatment": "Unequal treatment", "intimidation": "Intimidation",
			"discrimination": "Discrimination", "bullying": "Bullying", "stalking": "Stalking",
			"aggression": "Aggression", "other": "Other",
		},
		"sv_kind":         {"physical": "physical", "verbal_online": "verbal or online"},
		"aggression_kind": {"verbal": "verbal", "physical": "physical", "psychological": "psychological"},
		"relation": {
			"student_student": "student – student", "student_staff": "student – staff",
			"student_citizen": "student – someone outside the university", "unknown": "not known",
		},
		"reporter": {
			"self": "the student themself", "third_student": "another student",
			"third_staff": "a staff member", "third_other": "someone else",
		},
		"outcome": {"registration": "Registration only", "advice": "Advice", "intervention": "Informal intervention"},
		"contact": {"chat": "Chat", "in_person": "In person", "teams": "Teams", "phone": "Phone"},
		"faculty": {
			"law": "Law", "sbe": "SBE", "fse": "FSE", "fhml": "FHML", "fasos": "FASoS",
			"fpn": "FPN", "unknown": "not said",
		},
		"gender": {"woman": "woman", "man": "man", "non_binary": "non-binary", "not_said": "not said"},
		"when":   {"recent": "in the last few days", "earlier": "longer ago", "not_said": "not said"},
		"urgent": {"yes": "yes", "no": "no"},
	}
	// urgentReasons name why a case is urgent: the rule that fired, never the words.
	deskUrgency = map[string]string{
		UrgentCrisis:        "crisis words in a message",
		UrgentUnsafe:        "student said they were not safe",
		UrgentRecentSV:      "sexual violence in the last few days",
		UrgentStudentAnswer: "student asked for urgent help",
	}
	deskLanguages = map[string]string{"nl": "Dutch", "en": "English", "de": "German"}
	deskFollowUps = map[string]string{
		"registration": "Registration", "advice": "Advice", "intervention": "Informal intervention",
		"referral": "Referral", "guidance": "Guidance", "complaint": "Formal complaint", "other": "Other",
	}
)

// DeskValue is a coded answer in the desk's words ("—" when not given).
func DeskValue(field string, fields map[string]string) string {
	v, ok := fields[field]
	if !ok || v == "" {
		return "—"
	}
	if l, ok := deskValues[field][v]; ok {
		return l
	}
	return strings.ReplaceAll(v, "_", " ")
}

// DeskCategory is the category with its sub-kind, if any.
func DeskCategory(fields map[string]string) string {
	c := DeskValue("category", fields)
	for _, sub := range []string{"sv_kind", "aggression_kind"} {
		if _, ok := fields[sub]; ok {
			c += " (" + DeskValue(sub, fields) + ")"
		}
	}
	return c
}

// DeskLanguage is a language code in words.
func DeskLanguage(code string) string {
	if l, ok := deskLanguages[code]; ok {
		return l
	}
	return code
}

// DeskFollowUp is a follow-up category in words.
func DeskFollowUp(f string) string {
	if n, ok := deskFollowUps[f]; ok {
		return n
	}
	return f
}

// DeskFields lists the coded answers in the order the desk and counsellor notices show them.
var DeskFields = deskFieldOrder

// DeskFieldName is a coded answer's name in the desk's words.
func DeskFieldName(field string) string { return deskFieldNames[field] }

// DeskUrgency is why a case is urgent, in words; "" when it is not.
func DeskUrgency(reasons []string) string {
	var out []string
	for _, r := range reasons {
		if name, ok := deskUrgency[r]; ok {
			out = append(out, name)
		} else {
			out = append(out, r)
		}
	}
	return strings.Join(out, "; ")
}
