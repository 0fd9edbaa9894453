// The recording pages: agents open any recording of the tenant; a customer opens those of their
// own conversations when the business allows it.

import { route, type Ctx } from '../app';
import { recordingViewer } from './viewer';

route('/recordings/:id', 'staff', (ctx: Ctx, { id }) => {
  const view = recordingViewer(ctx, id, { agent: true });
  return { title: 'Recording', el: view.el, dispose: view.dispose };
});

route('/chat/recordings/:id', 'customer', (ctx: Ctx, { id }) => {
  const view = recordingViewer(ctx, id, { agent: false });
  return { title: 'Recording', el: view.el, dispose: view.dispose };
});
