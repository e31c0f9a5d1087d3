import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** The anchors a Markdown renderer (GitHub's, npm's) gives the headings of a document. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutCode = markdown.replace(/^```[\s\S]*?^```/gm, '');
  for (const [, heading] of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const slug = heading!
      .toLowerCase()
      .replace(/<[^>]+>/g, '')
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  for (const [, name] of withoutCode.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(name!);
  return anchors;
}

/** Every relative link target of a document: inline links and images, outside code blocks and code spans. */
export function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map(([, target]) => target!).filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** The relative links of `document` (a path below `root`) whose file or heading anchor does not exist, each with the reason. */
export function brokenLinks(root: string, document: string): string[] {
  const source = readFileSync(path.join(root, document), 'utf8');
  const broken: string[] = [];
  for (const link of relativeLinks(source)) {
    const [file, anchor] = link.split('#', 2) as [string, string | undefined];
    const target = file === '' ? path.join(root, document) : path.resolve(path.dirname(path.join(root, document)), decodeURI(file));
    if (!existsSync(target)) {
      broken.push(`${link}: no such file`);
      continue;
    }
    if (anchor !== undefined && anchor !== '' && target.endsWith('.md') && statSync(target).isFile()) {
      if (!headingAnchors(readFileSync(target, 'utf8')).has(anchor)) broken.push(`${link}: no heading with anchor #${anchor}`);
    }
  }
  return broken;
}
