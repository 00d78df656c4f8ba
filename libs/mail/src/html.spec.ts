import { escapeHtml, html } from './html';

describe('html mail templates', () => {
  it('escapes every interpolated value, and only those', () => {
    const name = '<script>alert("x")</script> & Co\'s';
    expect(html`<p>${name}</p>`).toBe(
      '<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co&#39;s</p>',
    );
    const link = 'https://a.test/?a=1&b=2';
    expect(html`<a href="${link}">go</a>`).toBe('<a href="https://a.test/?a=1&amp;b=2">go</a>');
  });

  it('leaves plain text alone', () => {
    expect(escapeHtml('Ada Lovelace')).toBe('Ada Lovelace');
  });
});
