/**
 * A tiny XML writer for the query-protocol responses (STS, EC2). Values map to elements:
 * objects → child elements by key, arrays → repeated `<item>` children (EC2's list shape),
 * `undefined` → omitted. Pure.
 */

/** A value that renders as XML element content. */
export type XmlValue =
  | string
  | number
  | boolean
  | undefined
  | readonly XmlValue[]
  | { readonly [name: string]: XmlValue };

/** Escapes text for element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&apos;",
  );
}

function content(value: XmlValue): string {
  if (value === undefined) return "";
  if (typeof value === "string") return escapeXml(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.map((item: XmlValue) => element("item", item)).join("");
  return Object.entries(value as { readonly [name: string]: XmlValue })
    .map(([name, child]) => element(name, child))
    .join("");
}

/** One element; `undefined` values render as nothing at all. */
export function element(name: string, value: XmlValue, attributes: Record<string, string> = {}): string {
  if (value === undefined) return "";
  const attrs = Object.entries(attributes)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join("");
  return `<${name}${attrs}>${content(value)}</${name}>`;
}

/** A whole document with the XML declaration. */
export function xmlDocument(name: string, value: XmlValue, attributes: Record<string, string> = {}): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${element(name, value, attributes)}`;
}
