import { csvField, csvLine } from './csv';

describe('csv', () => {
  it('quotes separators, quotes and newlines', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });

  it('defuses spreadsheet formulas', () => {
    expect(csvField('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@cmd')).toBe("'@cmd");
  });

  it('formats dates as ISO and joins a line', () => {
    expect(csvLine(['a', new Date('2026-01-02T00:00:00.000Z'), true, null])).toBe(
      'a,2026-01-02T00:00:00.000Z,true,\n',
    );
  });
});
