// Reading someone else's message in one's own language: a "Translate" button under it asks
// Confer for the message in the reader's language (translated once, then stored for everyone),
// shows it beneath the original, and the same button hides it again.

import { ApiError, describeError } from '../api';
import { h } from '../dom';

/** The language a reader reads: their browser's first, as a primary subtag, with its name in that language's own words. */
export interface ReaderLanguage {
  code: string;
  label: string;
}

export function readerLanguage(languages: readonly string[] = navigator.languages?.length ? navigator.languages : [navigator.language]): ReaderLanguage {
  const tag = (languages.find((l) => /^[A-Za-z]{2,3}\b/.test(l)) ?? 'en').toLowerCase();
  const code = tag.split('-')[0];
  let label = code;
  try {
    label = new Intl.DisplayNames([code, 'en'], { type: 'language' }).of(code) ?? code;
  } catch {
    // An engine without language names: the code says it.
  }
  return { code, label };
}

/** What a person reads when the translation could not be had. */
export function translationProblem(e: unknown, language: ReaderLanguage): string {
  if (e instanceof ApiError && e.code === 'translation_unavailable') return `Translation is not available: ${e.message}`;
  if (e instanceof ApiError && e.code === 'unsupported_language') return `This cannot be translated into ${language.label}.`;
  return `The translation failed: ${describeError(e)}`;
}

/**
 * The button and the place its translation shows, for a message's bubble. `fetch` answers the
 * translated text; it is asked once per message, then the button only shows and hides it.
 */
export function translateControl(language: ReaderLanguage, fetch: () => Promise<string>): { button: HTMLButtonElement; output: HTMLElement } {
  const button = h('button', { type: 'button', class: 'link translate-button', 'aria-expanded': 'false' }, 'Translate') as HTMLButtonElement;
  button.title = `Translate into ${language.label}`;
  const text = h('p', { class: 'text translated', lang: language.code });
  const note = h('p', { class: 'translated-note' });
  const output = h('div', { class: 'translation', hidden: true, 'aria-live': 'polite' }, note, text);
  let loaded = false;
  button.addEventListener('click', async () => {
    if (loaded) {
      output.hidden = !output.hidden;
      button.setAttribute('aria-expanded', String(!output.hidden));
      button.textContent = output.hidden ? 'Translate' : 'Hide translation';
      return;
    }
    button.disabled = true;
    button.textContent = 'Translating…';
    try {
      text.textContent = await fetch();
      note.textContent = `Translated into ${language.label}`;
      note.classList.remove('form-error');
      loaded = true;
      button.textContent = 'Hide translation';
      button.setAttribute('aria-expanded', 'true');
    } catch (e) {
      text.textContent = '';
      note.textContent = translationProblem(e, language);
      note.classList.add('form-error');
      note.setAttribute('role', 'alert');
      button.textContent = 'Translate';
    } finally {
      output.hidden = false;
      button.disabled = false;
    }
  });
  return { button, output };
}
