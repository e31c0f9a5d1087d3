/** Number of hash slots of a Redis Cluster. */
const SLOTS = 16_384;

// CRC16-CCITT (XMODEM), the checksum Redis Cluster uses to map a key to a slot.
const TABLE = new Uint16Array(256);
for (let byte = 0; byte < 256; byte++) {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
  TABLE[byte] = crc & 0xffff;
}

/**
 * The cluster hash slot of a key whose hash tag is `tag` (the text between the
 * braces). Only ASCII tags are passed here (digests and base64 keys), so one
 * UTF-16 unit is one byte.
 */
export function slotOfTag(tag: string): number {
  let crc = 0;
  for (let i = 0; i < tag.length; i++) {
    crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ tag.charCodeAt(i)) & 0xff] as number);
  }
  return crc % SLOTS;
}
