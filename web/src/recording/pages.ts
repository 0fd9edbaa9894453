// The recording pages: agents open any recording of the tenant; a customer opens those of their
// own conversations when the business allows it.

import { hashQuery, route, type Ctx } from '../app';
import { wholeNumber } from '../search/model';
import { recordingViewer } from './viewer';

/** The moment asked for in the address (a search hit): `?t=<ms>&lang=<language>`. */
function moment(): { startAtMs: number | null; language: string | null } {
  const q = hashQuery();
  return { startAtMs: wholeNumber(q.get('t')), language: q.get('lang') };
}

route('/recordings/:id', 'staff', (ctx: Ctx, { id }) => {
  const view = recordingViewer(ctx, id, { agent: true, ...moment() });
  return { title: 'Recording', el: view.el, dispose: view.dispose };
});

route('/chat/recordings/:id', 'customer', (ctx: Ctx, { id }) => {
  const view = recordingViewer(ctx, id, { agent: false, ...moment() });
  return { title: 'Recording', el: view.el, dispose: view.dispose };
});
