import './styles.css';
import { App } from './app';
import './pages/signin';
import './pages/join';
import './pages/staff';
import './pages/customers';
import './pages/customer';
import './pages/groups';
import './pages/announcements';
import './pages/agents';
import './recording/pages';
import './search/searchBox';

import { loadConfig } from './config';

const root = document.getElementById('app');
if (root) {
  void loadConfig().then((config) => new App(root, config).start());
}
