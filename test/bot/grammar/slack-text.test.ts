import { describe, expect, it } from 'vitest';
import { decodeSlackEntities, escapeSlackText, normalizeSlackText, unwrapSlackMarkup } from '../../../bot/grammar/slack-text.js';

describe('Slack command text', () => {
  it('unwraps auto-links and mailto links to their display text', () => {
    expect(unwrapSlackMarkup('drain <http://c01.example.com|c01.example.com> reason=x')).toBe('drain c01.example.com reason=x');
    expect(unwrapSlackMarkup('port create <http://example-fqdn-01.sys.example.com|example-fqdn-01.sys.example.com>')).toBe(
      'port create example-fqdn-01.sys.example.com',
    );
    expect(unwrapSlackMarkup('<mailto:ops@example.com|ops@example.com>')).toBe('ops@example.com');
    expect(unwrapSlackMarkup('<https://example.com>')).toBe('https://example.com');
    expect(unwrapSlackMarkup('<@U024BE7LH|bob> <#C024BE7LH|ops> <!here>')).toBe('bob ops !here');
  });

  it('decodes the three entities Slack uses, in one pass', () => {
    expect(decodeSlackEntities('a &amp; b &lt;c&gt;')).toBe('a & b <c>');
    expect(decodeSlackEntities('&amp;lt;')).toBe('&lt;');
    expect(decodeSlackEntities('&quot; &#39;')).toBe('&quot; &#39;');
  });

  it('unwraps before decoding, so typed angle brackets are never taken for markup', () => {
    // A person typed "<http://x|c01>": Slack sends it escaped; it must stay text (and then be refused).
    expect(normalizeSlackText('&lt;http://x|c01&gt;')).toBe('<http://x|c01>');
    expect(normalizeSlackText('<http://c01.example.com|c01.example.com> &amp;')).toBe('c01.example.com &');
  });

  it('escapes text echoed back to Slack', () => {
    expect(escapeSlackText('<!channel> & <@U1>')).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt;');
  });
});
