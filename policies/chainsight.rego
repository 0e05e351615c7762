# chainsight policy in Rego: the same rules as the built-in engine
# (src/policy/rules.ts), over the same normalised policy, which is loaded as
# OPA data at data.chainsight.config (src/policy/compile.ts, PolicyData).
#
# Query: POST /v1/data/chainsight/policy/decision with the engine's input
# (a chain input, plus `action` for an action). The answer:
#   {result, rules, violations: [{rule, link, msg}], policyVersion, revision}
# with link -1 for reasons that concern no link. The differential test holds
# this file and the built-in engine to the same answers.
package chainsight.policy

import rego.v1

cfg := data.chainsight.config

links := input.links

has_action if input.action

# ---------------------------------------------------------------- input shape

max_safe := 9007199254740991

str_ok(v, max) if {
	is_string(v)
	count(v) <= max
}

scope_ok(s) if {
	is_string(s)
	count(s) >= 1
	count(s) <= 256
	regex.match(`^[!-)+-~]*\*?$`, s)
}

scopes_ok(xs) if {
	is_array(xs)
	count(xs) <= 256
	every s in xs {
		scope_ok(s)
	}
}

link_strings_ok(l) if {
	str_ok(l.iss, 2048)
	str_ok(l.sub, 2048)
	str_ok(l.hash, 128)
	str_ok(l.trustDomain, 255)
}

link_times_ok(l) if {
	is_number(l.iat)
	is_number(l.nbf)
	is_number(l.exp)
}

link_scope_ok(l) if {
	scopes_ok(l.scope)
	count(l.scope) > 0
}

approval_ok(a) if {
	is_object(a)
	is_boolean(a.verified)
	str_ok(a.hash, 128)
	str_ok(a.error, 2048)
	str_ok(a.linkHash, 128)
	str_ok(a.approver, 2048)
	scopes_ok(a.scope)
	is_number(a.iat)
	is_number(a.exp)
}

depth_ok if {
	is_number(input.depth)
	input.depth == floor(input.depth)
	input.depth >= 0
	input.depth <= max_safe
}

links_ok if {
	is_array(links)
	count(links) > 0
	count(links) <= 64
}

approvals_ok if {
	is_array(input.approvals)
	count(input.approvals) <= 64
}

action_ok if {
	is_object(input.action)
	str_ok(input.action.agent, 2048)
	scopes_ok(input.action.scopes)
	is_number(input.action.atMs)
}

invalid contains {"rule": "input.invalid", "link": -1, "msg": "input is not an object"} if not is_object(input)

invalid contains {"rule": "input.invalid", "link": -1, "msg": "depth is not a non-negative integer"} if not depth_ok

invalid contains {"rule": "input.invalid", "link": -1, "msg": "links must be an array of 1 to 64 links"} if not links_ok

invalid contains {"rule": "input.invalid", "link": i, "msg": "link is not an object"} if {
	links_ok
	some i, l in links
	not is_object(l)
}

invalid contains {"rule": "input.invalid", "link": i, "msg": "iss, sub, hash or trustDomain is not a string of sane length"} if {
	links_ok
	some i, l in links
	is_object(l)
	not link_strings_ok(l)
}

invalid contains {"rule": "input.invalid", "link": i, "msg": "iat, nbf or exp is not a number"} if {
	links_ok
	some i, l in links
	is_object(l)
	not link_times_ok(l)
}

invalid contains {"rule": "input.invalid", "link": i, "msg": "scope is not a list of 1 to 256 well-formed scopes"} if {
	links_ok
	some i, l in links
	is_object(l)
	not link_scope_ok(l)
}

invalid contains {"rule": "input.invalid", "link": -1, "msg": "approvals must be an array of at most 64"} if not approvals_ok

invalid contains {"rule": "input.invalid", "link": -1, "msg": sprintf("approval %d is malformed", [i])} if {
	approvals_ok
	some i, a in input.approvals
	not approval_ok(a)
}

invalid contains {"rule": "input.invalid", "link": -1, "msg": "action must have agent, scopes and atMs"} if {
	is_object(input)
	"action" in object.keys(input)
	not action_ok
}

# ---------------------------------------------------------------- SPIFFE IDs and agent types

spiffe_parts(id) := {"td": td, "segs": segs} if {
	is_string(id)
	count(id) <= 2048
	startswith(id, "spiffe://")
	rest := substring(id, 9, -1)
	i := indexof(rest, "/")
	i > 0
	td := substring(rest, 0, i)
	count(td) <= 255
	regex.match(`^[a-z0-9._-]+$`, td)
	segs := split(substring(rest, i + 1, -1), "/")
	every s in segs {
		regex.match(`^[A-Za-z0-9._-]+$`, s)
		s != "."
		s != ".."
	}
}

td_fits(pat, _) if pat.trustDomain == ""

td_fits(pat, p) if pat.trustDomain == p.td

seg_fits(w, _) if w == "{type}"

seg_fits(w, _) if w == "*"

seg_fits(w, s) if w == s

pattern_fits(pat, p) if {
	td_fits(pat, p)
	count(pat.segments) == count(p.segs)
	every i, w in pat.segments {
		seg_fits(w, p.segs[i])
	}
}

known_type(id) := t if {
	p := spiffe_parts(id)
	idxs := [i | some i, pat in cfg.agentTypes.patterns; pattern_fits(pat, p)]
	count(idxs) > 0
	pat := cfg.agentTypes.patterns[min(idxs)]
	t := p.segs[pat.typeIndex]
	t in cfg.agentTypes.types
}

sub_type[i] := t if {
	some i, l in links
	t := known_type(l.sub)
}

iss_type[0] := "human" if count(links) > 0

iss_type[i] := t if {
	some i, l in links
	i > 0
	t := known_type(l.iss)
}

sub_td[i] := p.td if {
	some i, l in links
	p := spiffe_parts(l.sub)
}

iss_td[i] := p.td if {
	some i, l in links
	i > 0
	p := spiffe_parts(l.iss)
}

# ---------------------------------------------------------------- scopes

default closures := {}

closures := c if {
	cfg.scopes != null
	c := cfg.scopes.closures
}

stem(g) := trim_suffix(g, "*")

pattern_covers(g, w) if g == w

pattern_covers(g, w) if {
	endswith(g, "*")
	startswith(w, stem(g))
}

names_key(g, k) if g == k

names_key(g, k) if {
	endswith(g, "*")
	startswith(k, stem(g))
}

expand(g) := {g} | {t | some k, ts in closures; names_key(g, k); some t in ts}

covers_with(g, w) if pattern_covers(g, w)

covers_with(g, w) if {
	some t in expand(g)
	pattern_covers(t, w)
}

covered_by_any(gs, w) if {
	some g in gs
	covers_with(g, w)
}

# A granted scope, lower-cased, as the selector rules read it.
grant_view(g) := {"s": g, "pattern": true, "stem": stem(g)} if endswith(g, "*")

grant_view(g) := {"s": g, "pattern": false, "stem": g} if not endswith(g, "*")

# May a selector (pre-classified at compile time: exact, prefix or suffix,
# lower-cased) and a granted scope name one same permission? The twin of
# overlaps() in scope-select.ts.
overlaps(sel, g) if {
	sel.kind == "suffix"
	g.pattern
}

overlaps(sel, g) if {
	sel.kind == "suffix"
	endswith(g.s, sel.text)
}

overlaps(sel, g) if {
	sel.kind == "prefix"
	startswith(g.stem, sel.text)
}

overlaps(sel, g) if {
	sel.kind != "suffix"
	g.pattern
	startswith(sel.text, g.stem)
}

overlaps(sel, g) if {
	sel.kind == "exact"
	sel.text == g.s
}

# Each link's scopes, each with everything it grants, lower-cased: computed
# once per query and shared by the lifetime and approval rules.
expansion[i] := e if {
	some i, l in links
	e := {sc: {grant_view(lower(t)) | some t in expand(sc)} | some sc in l.scope}
}

# The scopes of link i that select (overlap) one of the selectors.
selected_by(selectors, i) := {sc |
	some sc, gs in expansion[i]
	some g in gs
	some sel in selectors
	overlaps(sel, g)
}

# ---------------------------------------------------------------- rules

# Agent types
applied contains cfg.agentTypes.id

violation contains {"rule": cfg.agentTypes.id, "link": i, "msg": sprintf("delegatee %v has no known agent type", [l.sub])} if {
	some i, l in links
	not sub_type[i]
}

violation contains {"rule": cfg.agentTypes.id, "link": -1, "msg": sprintf("acting agent %v has no known agent type", [input.action.agent])} if {
	has_action
	not known_type(input.action.agent)
}

# Incomplete chains
applied contains "input.incomplete" if count(links) != input.depth

violation contains {"rule": "input.incomplete", "link": -1, "msg": "some links could not be judged"} if count(links) != input.depth

# Depth
root_fits(r) if r.rootAgentType == null

root_fits(r) if sub_type[0] == r.rootAgentType

domain_fits(r) if r.trustDomain == null

domain_fits(r) if {
	some i
	sub_td[i] == r.trustDomain
}

depth_applies(r) if {
	root_fits(r)
	domain_fits(r)
}

applied contains r.id if {
	some r in cfg.depth
	depth_applies(r)
}

violation contains {"rule": r.id, "link": r.max, "msg": sprintf("chain has %v links, at most %v allowed", [input.depth, r.max])} if {
	some r in cfg.depth
	depth_applies(r)
	input.depth > r.max
}

# Scope diminishment and wildcards
applied contains cfg.scopes.id if cfg.scopes != null

violation contains {"rule": cfg.scopes.id, "link": i, "msg": "grants scopes beyond its parent's"} if {
	cfg.scopes != null
	some i, l in links
	i > 0
	some w in l.scope
	not covered_by_any(links[i - 1].scope, w)
}

violation contains {"rule": cfg.scopes.id, "link": -1, "msg": "action used scopes beyond the last link's"} if {
	cfg.scopes != null
	has_action
	some w in input.action.scopes
	not covered_by_any(links[count(links) - 1].scope, w)
}

applied contains cfg.scopes.wildcards.id if {
	cfg.scopes != null
	cfg.scopes.wildcards != null
}

violation contains {"rule": w.id, "link": i, "msg": sprintf("wildcard scope %v is not allowed", [sc])} if {
	cfg.scopes != null
	w := cfg.scopes.wildcards
	w != null
	not w.allowed
	some i, l in links
	some sc in l.scope
	endswith(sc, "*")
}

violation contains {"rule": w.id, "link": i, "msg": sprintf("wildcard scope %v is too broad", [sc])} if {
	cfg.scopes != null
	w := cfg.scopes.wildcards
	w != null
	w.allowed
	some i, l in links
	some sc in l.scope
	endswith(sc, "*")
	count(sc) - 1 < w.minPrefixLength
}

# Lifetimes
lifetime_selected contains [ri, i] if {
	some ri, r in cfg.lifetime
	r.scopes != null
	some i, _ in links
	count(selected_by(r.selectors, i)) > 0
}

lifetime_applies(ri, r, i) if {
	i + 1 >= r.fromDepth
	r.scopes == null
}

lifetime_applies(ri, r, i) if {
	i + 1 >= r.fromDepth
	lifetime_selected[[ri, i]]
}

applied contains r.id if {
	some ri, r in cfg.lifetime
	some i, _ in links
	lifetime_applies(ri, r, i)
}

violation contains {"rule": r.id, "link": i, "msg": sprintf("lives %vs, at most %vs allowed", [l.exp - l.iat, r.maxSec])} if {
	some ri, r in cfg.lifetime
	some i, l in links
	lifetime_applies(ri, r, i)
	l.exp - l.iat > r.maxSec
}

# Agent type restrictions
delegator_in(i, xs) if iss_type[i] in xs

applied contains r.id if {
	some r in cfg.delegation
	some i, _ in links
	sub_type[i] in r.to
}

violation contains {"rule": r.id, "link": i, "msg": sprintf("delegator may not delegate to %v", [sub_type[i]])} if {
	some r in cfg.delegation
	some i, _ in links
	sub_type[i] in r.to
	not delegator_in(i, r.from)
}

# Cross-domain
same_domain(i) if iss_td[i] == sub_td[i]

crossing contains i if {
	some i, _ in links
	i > 0
	not same_domain(i)
}

candidates(i) := [r | some r in cfg.crossDomain.allow; r.from == iss_td[i]; r.to == sub_td[i]]

delegator_type_fits(r, i) if {
	r.delegatorTypes == null
	iss_type[i]
}

delegator_type_fits(r, i) if {
	r.delegatorTypes != null
	iss_type[i] in r.delegatorTypes
}

delegatee_type_fits(r, i) if {
	r.delegateeTypes == null
	sub_type[i]
}

delegatee_type_fits(r, i) if {
	r.delegateeTypes != null
	sub_type[i] in r.delegateeTypes
}

crossing_fits(r, i) if {
	delegator_type_fits(r, i)
	delegatee_type_fits(r, i)
	every w in links[i].scope {
		covered_by_any(r.maxScope, w)
	}
}

passing(i) := [r | some r in candidates(i); crossing_fits(r, i)]

applied contains cfg.crossDomain.id if {
	some i in crossing
	count(candidates(i)) == 0
}

violation contains {"rule": cfg.crossDomain.id, "link": i, "msg": "delegation across trust domains is not allowed"} if {
	some i in crossing
	count(candidates(i)) == 0
}

applied contains r.id if {
	some i in crossing
	some r in passing(i)
}

applied contains r.id if {
	some i in crossing
	count(passing(i)) == 0
	some r in candidates(i)
}

violation contains {"rule": r.id, "link": i, "msg": "crossing is beyond what the rule lets cross"} if {
	some i in crossing
	count(passing(i)) == 0
	some r in candidates(i)
}

# Human approval
sensitive[[ri, i]] := sens if {
	some ri, r in cfg.approval
	some i, _ in links
	sens := selected_by(r.selectors, i)
	count(sens) > 0
}

approval_fits(a, l, sens) if {
	a.linkHash == l.hash
	a.verified
	every s in sens {
		some g in a.scope
		pattern_covers(g, s)
	}
}

approval_candidates(l, sens) := [a |
	some a in input.approvals
	approval_fits(a, l, sens)
]

approval_timely(a) if {
	a.iat * 1000 <= input.action.atMs
	input.action.atMs < a.exp * 1000
}

any_timely(cands) if {
	some a in cands
	approval_timely(a)
}

applied contains cfg.approval[ri].id if {
	some [ri, _], _ in sensitive
}

violation contains {"rule": cfg.approval[ri].id, "link": i, "msg": "grants sensitive scopes without a valid approval bound to this link"} if {
	some [ri, i], sens in sensitive
	count(approval_candidates(links[i], sens)) == 0
}

violation contains {"rule": cfg.approval[ri].id, "link": i, "msg": "no approval is valid at the action's time"} if {
	has_action
	some [ri, i], sens in sensitive
	cands := approval_candidates(links[i], sens)
	count(cands) > 0
	not any_timely(cands)
}

# ---------------------------------------------------------------- decision

default decision := {"result": "deny", "rules": ["input.invalid"], "violations": [{"rule": "input.invalid", "link": -1, "msg": "the policy could not judge this input"}]}

decision := d if {
	count(invalid) > 0
	d := {"result": "deny", "rules": ["input.invalid"], "violations": invalid, "policyVersion": cfg.version, "revision": cfg.revision}
}

decision := d if {
	count(invalid) == 0
	res := verdict(count(violation))
	d := {"result": res, "rules": applied, "violations": violation, "policyVersion": cfg.version, "revision": cfg.revision}
}

verdict(0) := "allow"

verdict(n) := "deny" if n > 0
