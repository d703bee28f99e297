import { createRoot } from 'react-dom/client';
import { App } from './app';
import { RouterProvider } from './router';
import { SessionProvider } from './session';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <RouterProvider>
    <SessionProvider>
      <App />
    </SessionProvider>
  </RouterProvider>,
);
