import { useState } from 'react';
import { getToken, setToken } from '../api';

/**
 * The API wants a bearer token: the analyst pastes one issued by their
 * identity provider. It
 * stays in this tab's sessionStorage and goes only into Authorization headers.
 */
export function SignIn() {
  const [value, setValue] = useState('');
  const had = getToken() !== null;
  return (
    <section className="signin card">
      <h1>Sign in</h1>
      <p>{had ? 'The server refused the token (expired, or not for this API). Paste a new one.' : 'This chainsight API requires a bearer token.'}</p>
      <p className="muted">
        Get an access token for this API's audience from your organisation's identity provider (for example
        <code> oidc-agent --print-access-token</code> or your SSO's device-code flow). It is kept only in this browser tab
        and sent only as an Authorization header, never in a URL.
      </p>
      <form onSubmit={(e) => { e.preventDefault(); if (value.trim()) setToken(value.trim()); }}>
        <textarea name="token" aria-label="bearer token" rows={5} value={value} onChange={(e) => setValue(e.target.value)} placeholder="eyJhbGciOi…" autoComplete="off" spellCheck={false} />
        <button type="submit" disabled={!value.trim()}>Sign in</button>
      </form>
    </section>
  );
}
