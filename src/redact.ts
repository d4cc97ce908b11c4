/** Placeholder: the lead's redaction module replaces this file. */
export function scrubText(text: string): string { return text; }
