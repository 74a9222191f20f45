/**
 * The few DOM members the HTML cleaner uses. linkedom's typings point at lib.dom, which this project does not load
 * (it runs on Node, not in a browser), so without these its documents would be `any`.
 */
export interface DomNode {
  readonly nodeType: number;
  readonly nodeName: string;
  textContent: string | null;
  readonly parentNode: DomNode | null;
  readonly childNodes: ArrayLike<DomNode>;
  readonly firstChild: DomNode | null;
  remove(): void;
}

export interface DomElement extends DomNode {
  readonly tagName: string;
  innerHTML: string;
  readonly outerHTML: string;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  replaceWith(...nodes: (DomNode | string)[]): void;
  appendChild(node: DomNode): DomNode;
  readonly firstElementChild: DomElement | null;
  readonly nextElementSibling: DomElement | null;
}

export interface DomDocument extends DomNode {
  readonly documentElement: DomElement | null;
  readonly head: DomElement | null;
  readonly body: DomElement | null;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  createElement(tagName: string): DomElement;
  createTextNode(text: string): DomNode;
}
