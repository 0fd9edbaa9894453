import './styles.css';
import { App } from './app';
import './pages/signin';
import './pages/join';
import './pages/staff';
import './pages/customers';
import './pages/customer';

const root = document.getElementById('app');
if (root) new App(root).start();
