package retention

import (
	"bytes"
	_ "embed"
	"fmt"

	"go.yaml.in/yaml/v3"
)

//go:embed presets.yaml
var presetsYAML []byte

// Presets are the schedules shipped with osmarc (presets.yaml): examples
// of published schedule items, each saying its authority and what the
// organisation must check.
func Presets() []Schedule {
	s, err := ParseSchedules(presetsYAML, "presets.yaml")
	if err != nil {
		panic(err) // the shipped file is tested
	}
	return s
}

// rawSchedule is a schedule as written, before its period and cutoff are
// read, so errors can say which entry they are in.
type rawSchedule struct {
	ID        string `yaml:"id"`
	Title     string `yaml:"title"`
	Authority string `yaml:"authority"`
	Retain    string `yaml:"retain"`
	Cutoff    string `yaml:"cutoff"`
	Action    string `yaml:"action"`
	Note      string `yaml:"note"`
}

// ParseSchedules reads schedules from YAML or JSON: a list, or an object
// with a "schedules" list. It checks each and names the first that is wrong
// by its position and id.
func ParseSchedules(data []byte, name string) ([]Schedule, error) {
	var doc struct {
		Schedules []rawSchedule `yaml:"schedules"`
	}
	trimmed := bytes.TrimSpace(data)
	var dec *yaml.Decoder
	var err error
	if len(trimmed) > 0 && trimmed[0] == '[' {
		dec = yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		err = dec.Decode(&doc.Schedules)
	} else {
		dec = yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		err = dec.Decode(&doc)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Schedules) == 0 {
		return nil, fmt.Errorf("%s: no schedules (want a list, or an object with a \"schedules\" list)", name)
	}
	seen := map[string]bool{}
	var out []Schedule
	for i, r := range doc.Schedules {
		where := fmt.Sprintf("%s: schedule %d (%s)", name, i+1, r.ID)
		s := Schedule{ID: r.ID, Title: r.Title, Authority: r.Authority, Action: r.Action, Note: r.Note}
		if s.Retain, err = ParsePeriod(r.Retain); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if s.Cutoff, err = ParseCutoff(r.Cutoff); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if err := s.Check(); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if seen[s.ID] {
			return nil, fmt.Errorf("%s: id %s appears twice", where, s.ID)
		}
		seen[s.ID] = true
		out = append(out, s)
	}
	return out, nil
}
