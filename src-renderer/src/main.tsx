import { createRoot } from 'react-dom/client';
import { App } from './App';
import './styles.css';

// No StrictMode: its double-run effects would open two engine connections in development.
createRoot(document.getElementById('root')!).render(<App />);
