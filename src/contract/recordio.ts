/**
 * RecordIO framing as SageMaker tools write it (CONTRACT §3.6; TK:recordio.py): a little-endian
 * uint32 magic 0xCED7230A, a uint32 payload length, the payload, and zero padding to a multiple of
 * 4 bytes. In Pipe mode with RecordWrapperType RecordIO each S3 object becomes one record.
 */
export const RECORDIO_MAGIC = 0xced7230a;

export function recordIOHeader(payloadLength: number): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(RECORDIO_MAGIC, 0);
  header.writeUInt32LE(payloadLength, 4);
  return header;
}

export function recordIOPadding(payloadLength: number): Buffer {
  return Buffer.alloc((4 - (payloadLength % 4)) % 4);
}
