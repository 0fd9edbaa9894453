import { describe, expect, it } from 'vitest';
import { ApiError } from '../api';
import { readerLanguage, translationProblem } from './translate';

// The button itself is exercised in Chromium (tests/browser/console.test.ts).
describe('reading a message in one’s own language', () => {
  it('takes the browser’s first language as a primary subtag', () => {
    expect(readerLanguage(['es-MX', 'en']).code).toBe('es');
    expect(readerLanguage(['pt-BR']).label.length).toBeGreaterThan(0);
    expect(readerLanguage(['*', 'de']).code).toBe('de');
    expect(readerLanguage([]).code).toBe('en');
  });

  it('names what went wrong', () => {
    expect(translationProblem(new ApiError(503, 'translation_unavailable', 'no service'), { code: 'es', label: 'español' })).toBe('Translation is not available: no service');
    expect(translationProblem(new ApiError(400, 'unsupported_language', 'xx'), { code: 'xx', label: 'xx' })).toBe('This cannot be translated into xx.');
  });
});
