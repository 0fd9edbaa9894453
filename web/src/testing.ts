// Test data shared by the unit tests.

import type { Message } from './types';

export function msg(seq: number, text = `m${seq}`, session = 'ses_1'): Message {
  return {
    id: `msg_${seq}`,
    session_id: session,
    seq,
    sender: { kind: 'customer', id: 'cus_1' },
    client_message_id: `c${seq}`,
    kind: 'text',
    text,
    created_at: '2026-12-04T15:04:45.120Z',
  };
}
