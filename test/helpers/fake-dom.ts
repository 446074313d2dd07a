// Test helper: runs the script of a `git mgit diff --format=html` page against a minimal stand-in for
// the DOM (elements that record children and handlers), then fires every handler it registered, so a
// script error (a typo, a use before definition) fails a test without a browser.
// Must never: be imported by production code.

export function runPage(html: string): { elements: number; handlers: number; text: string[] } {
  const data = html.slice(html.indexOf('id="data">') + 10, html.indexOf('</script>'));
  const script = html.slice(html.lastIndexOf('<script>') + 8, html.lastIndexOf('</script>'));
  let elements = 0;
  const handlers: ((ev: unknown) => void)[] = [];
  const text: string[] = [];
  class El {
    children: unknown[] = [];
    value = '';
    checked = false;
    height = 300;
    width = 14;
    scrollTop = 0;
    scrollHeight = 0;
    className = '';
    classList = { contains: () => false };
    nextSibling = null;
    private _text = '';
    constructor(readonly tag: string) {}
    get textContent(): string {
      return this._text;
    }
    set textContent(s: string) {
      this._text = s;
      if (s) text.push(s);
    }
    append(...k: unknown[]): void {
      this.children.push(...k);
      elements += k.length;
    }
    after(): void {}
    remove(): void {}
    replaceWith(): void {}
    setAttribute(a: string, b: string): void {
      if (a === 'height') this.height = Number(b);
    }
    addEventListener(_e: string, f: (ev: unknown) => void): void {
      handlers.push(f);
    }
    set onclick(f: (ev: unknown) => void) {
      handlers.push(f);
    }
    set oninput(f: (ev: unknown) => void) {
      handlers.push(f);
    }
    set onchange(f: (ev: unknown) => void) {
      handlers.push(f);
    }
    getContext() {
      return { fillRect() {}, fillStyle: '' };
    }
  }
  const document = {
    getElementById: (id: string) => (id === 'data' ? { textContent: data } : new El('main')),
    createElement: (t: string) => new El(t),
    createTextNode: (s: string) => {
      text.push(s);
      return { s };
    },
    createDocumentFragment: () => new El('fragment'),
  };
  new Function('document', script)(document);
  for (const h of handlers.slice()) h({ offsetY: 10 });
  return { elements, handlers: handlers.length, text };
}
