package scopes

// Compiler is implemented by validators that can prepare a list of required
// scopes once, when a route is set up, so that each request is checked in a
// single pass over its granted scopes. [Hierarchical] and [Simple] implement
// it; a ScopedAuth's Requires uses it when its validator does, and calls
// HasScope once per required scope otherwise.
type Compiler interface {
	Validator
	// Compile returns a Matcher for required, which holds scopes that
	// [Check] accepts. The Matcher must agree with HasScope: Missing
	// reports the first required scope for which HasScope would be false.
	Compile(required []string) Matcher
}

// Matcher checks a fixed list of required scopes against the granted scopes
// of one request. It must be safe for concurrent use and should not
// allocate.
type Matcher interface {
	// Missing returns the index in the compiled list of the first required
	// scope that granted does not satisfy, or -1 when granted satisfies
	// them all.
	Missing(granted Set) int
}

// Compile returns a Matcher for required under h's rules.
func (h *Hierarchical) Compile(required []string) Matcher {
	if h == nil || h.grantedBy == nil {
		h = defaultHierarchical
	}
	m := &matcher{reqs: make([]requirement, len(required))}
	for i, s := range required {
		r := requirement{scope: s}
		if res, act, ok := split(s); ok {
			r.res, r.act, r.structured = res, act, true
			r.grantors = h.grantedBy[act]
		}
		m.reqs[i] = r
	}
	return m
}

// Compile returns a Matcher for required that matches verbatim.
func (Simple) Compile(required []string) Matcher {
	m := &matcher{reqs: make([]requirement, len(required))}
	for i, s := range required {
		m.reqs[i] = requirement{scope: s}
	}
	return m
}

// requirement is one required scope, split once at set-up. An unstructured
// requirement (no resource:action form, or a Simple validator) matches only
// verbatim.
type requirement struct {
	scope, res, act string
	grantors        []string
	structured      bool
}

// matcher is the Matcher of Hierarchical and Simple.
type matcher struct {
	reqs []requirement
}

// Missing walks the granted scopes once, marking the requirements each one
// satisfies, and stops as soon as all are met. Lists of more than 64
// required scopes, which do not fit the bit set, are checked one by one.
func (m *matcher) Missing(granted Set) int {
	n := len(m.reqs)
	if n == 0 {
		return -1
	}
	if n > 64 {
		for i := range m.reqs {
			if !m.satisfied(i, granted) {
				return i
			}
		}
		return -1
	}
	var met uint64
	left := n
	for rest := granted.str; rest != ""; {
		var g string
		g, rest = cut(rest)
		if g != "" && m.mark(g, &met, &left) {
			return -1
		}
	}
	for _, g := range granted.list {
		if g != "" && m.mark(g, &met, &left) {
			return -1
		}
	}
	for _, v := range granted.anys {
		if g, ok := v.(string); ok && g != "" && m.mark(g, &met, &left) {
			return -1
		}
	}
	for i := range n {
		if met&(1<<i) == 0 {
			return i
		}
	}
	return -1
}

// mark records in met the requirements that the granted scope g satisfies
// and reports whether none is left.
func (m *matcher) mark(g string, met *uint64, left *int) bool {
	for i := range m.reqs {
		if *met&(1<<i) != 0 || !m.reqs[i].grantedBy(g) {
			continue
		}
		*met |= 1 << i
		if *left--; *left == 0 {
			return true
		}
	}
	return false
}

// satisfied reports whether granted satisfies requirement i.
func (m *matcher) satisfied(i int, granted Set) bool {
	found := false
	granted.each(func(g string) bool {
		found = m.reqs[i].grantedBy(g)
		return !found
	})
	return found
}

// grantedBy reports whether the granted scope g satisfies r.
func (r *requirement) grantedBy(g string) bool {
	if !r.structured {
		return g == r.scope
	}
	return grants(g, r.scope, r.res, r.act, r.grantors)
}

var (
	_ Compiler = Simple{}
	_ Compiler = (*Hierarchical)(nil)
)
