import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emitterReason, parseEmitterAuthPolicy, requiresAuthentication } from '../../src/verify/emitter-auth.js';
import type { AuthenticatedPeer } from '../../src/model/span.js';
import { makeSpan } from '../support/spans.js';

const A = 'spiffe://acme.example/agent/a';
const B = 'spiffe://acme.example/agent/b';
const policy = parseEmitterAuthPolicy('default=none, acme.example=mtls, partner.example=either');
const span = (agentId: string, peer?: AuthenticatedPeer) => makeSpan({ agentId, ...(peer ? { peer } : {}) });
const code = (agentId: string, peer?: AuthenticatedPeer) => emitterReason(span(agentId, peer), policy)?.code;

test('parses a policy per trust domain; every bad entry is named', () => {
  assert.equal(policy.default, 'none');
  assert.equal(policy.domains.get('partner.example'), 'either');
  assert.equal(requiresAuthentication(policy), true);
  assert.equal(requiresAuthentication(parseEmitterAuthPolicy('default=none')), false);
  assert.equal(parseEmitterAuthPolicy('').default, 'none');
  assert.throws(() => parseEmitterAuthPolicy('acme.example=yes,Bad_Domain=mtls,default=none,default=mtls,x'), (e: Error) =>
    ['"acme.example=yes"', '"Bad_Domain"', 'default is given twice', '"x"'].every((s) => e.message.includes(s)));
  assert.throws(() => parseEmitterAuthPolicy('a.example=mtls,a.example=none'), /a\.example is given twice/);
});

test('an authenticated sender must be the agent the span names, whatever the policy', () => {
  assert.equal(code(A, { id: A, method: 'mtls' }), undefined);
  assert.equal(code(B, { id: A, method: 'mtls' }), 'agent.not_sender');
  assert.equal(code('spiffe://other.example/agent/x', { id: A, method: 'jwt-svid' }), 'agent.not_sender');
  assert.equal(code('', { id: A, method: 'jwt-svid' }), 'agent.not_sender');
});

test('mtls: only an X.509-SVID sender passes', () => {
  assert.equal(code(A), 'agent.unauthenticated');
  assert.equal(code(A, { id: A, method: 'jwt-svid' }), 'agent.unauthenticated');
  assert.equal(code(A, { id: A, method: 'mtls' }), undefined);
});

test('either: any proven sender passes; none fails', () => {
  const P = 'spiffe://partner.example/agent/p';
  assert.equal(code(P, { id: P, method: 'jwt-svid' }), undefined);
  assert.equal(code(P, { id: P, method: 'mtls' }), undefined);
  assert.equal(code(P), 'agent.unauthenticated');
});

test('none, and the default for agents that are not SPIFFE IDs (fail closed when the default requires one)', () => {
  assert.equal(code('spiffe://other.example/agent/x'), undefined);
  const strict = parseEmitterAuthPolicy('default=either');
  assert.equal(emitterReason(span('not-a-spiffe-id'), strict)?.code, 'agent.unauthenticated');
  assert.equal(emitterReason(span(''), strict)?.code, 'agent.unauthenticated');
});

test('a credential that was presented and failed fails closed, whatever the policy', () => {
  const open = parseEmitterAuthPolicy('default=none');
  const r = emitterReason(makeSpan({ agentId: A, peerError: 'JWT-SVID for x: expired' }), open);
  assert.equal(r?.code, 'agent.unauthenticated');
  assert.match(r!.message, /expired/);
});
