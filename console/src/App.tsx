import { useEffect, useState } from 'react';
import { getToken, needsSignIn, onAuthChange, setToken } from './api';
import { href, useRoute } from './route';
import { SignIn } from './pages/SignIn';
import { TasksPage } from './pages/Tasks';
import { TaskPage } from './pages/Task';
import { GraphPage } from './pages/Graph';
import { AgentPage } from './pages/Agent';
import { AlertsPage } from './pages/Alerts';
import { RevocationPage } from './pages/Revocation';

const NAV: Array<[string, string]> = [['tasks', 'Tasks'], ['graph', 'Delegation graph'], ['alerts', 'Alerts'], ['revocation', 'Blast radius & revocation']];

export function App() {
  const route = useRoute();
  const [, setAuthTick] = useState(0);
  useEffect(() => onAuthChange(() => setAuthTick((t) => t + 1)), []);
  const [section = 'tasks', id] = route.parts;
  const signedIn = getToken() !== null;

  let page;
  if (needsSignIn()) page = <SignIn />;
  else if (section === 'tasks' && id) page = <TaskPage taskId={id} span={route.params.get('span') ?? undefined} />;
  else if (section === 'graph') page = <GraphPage params={route.params} />;
  else if (section === 'agents' && id) page = <AgentPage agentId={id} />;
  else if (section === 'alerts') page = <AlertsPage params={route.params} />;
  else if (section === 'revocation') page = <RevocationPage params={route.params} />;
  else page = <TasksPage params={route.params} />;

  return (
    <div className="app">
      <header className="top">
        <a className="brand" href={href(['tasks'])}>chainsight</a>
        <nav>
          {NAV.map(([key, label]) => (
            <a key={key} href={href([key])} className={section === key || (key === 'tasks' && section === 'tasks') ? 'active' : ''}>{label}</a>
          ))}
        </nav>
        <span className="spacer" />
        {signedIn ? <button className="link" onClick={() => setToken(null)}>Sign out</button> : null}
      </header>
      <main>{page}</main>
    </div>
  );
}
