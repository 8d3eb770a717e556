// A Java agent that lowers one number in OpenSearch: the floor of its bootstrap check on open files
// (org.opensearch.bootstrap.BootstrapChecks$FileDescriptorCheck, 65535 on Linux) to OPENSEARCH_MIN_FILE_DESCRIPTORS.
// Why: a node that binds a non-loopback address (any node of a cluster) must pass every bootstrap check, and the
// Docker engines this stack runs on cap a container's open files below 65535 (20,000 here; raising a container's
// hard limit is refused). The check still runs, against the lower floor: a container with fewer files than that
// still refuses to start. The class is rewritten as it loads (its constant pool's one integer 65535), nothing else;
// when the class no longer holds exactly one such constant (another OpenSearch release), the agent says so and
// leaves it unchanged, and OpenSearch's own check then fails loudly.
package claudecodetelemetry.opensearch;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;

public final class FileDescriptorFloor implements ClassFileTransformer {
  static final String TARGET = "org/opensearch/bootstrap/BootstrapChecks$FileDescriptorCheck";
  static final int UPSTREAM_FLOOR = 65535;
  static final String VARIABLE = "OPENSEARCH_MIN_FILE_DESCRIPTORS";

  private final int floor;

  private FileDescriptorFloor(int floor) {
    this.floor = floor;
  }

  public static void premain(String args, Instrumentation inst) {
    String text = System.getenv(VARIABLE);
    if (text == null || text.isBlank()) text = args;
    if (text == null || text.isBlank()) {
      System.err.println("fd-floor: " + VARIABLE + " is not set: OpenSearch's floor stays " + UPSTREAM_FLOOR);
      return;
    }
    int floor;
    try {
      floor = Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(VARIABLE + "=" + text + ": not a whole number");
    }
    if (floor < 1024 || floor > UPSTREAM_FLOOR)
      throw new IllegalArgumentException(VARIABLE + "=" + floor + ": outside 1024.." + UPSTREAM_FLOOR);
    inst.addTransformer(new FileDescriptorFloor(floor));
  }

  @Override
  public byte[] transform(
      ClassLoader loader, String name, Class<?> redefined, ProtectionDomain domain, byte[] bytes) {
    if (!TARGET.equals(name)) return null;
    try {
      byte[] patched = withFloor(bytes, floor);
      System.err.println(
          "fd-floor: OpenSearch's file descriptor check floor lowered from " + UPSTREAM_FLOOR + " to " + floor);
      return patched;
    } catch (RuntimeException e) {
      System.err.println("fd-floor: " + TARGET + " left unchanged: " + e.getMessage());
      return null;
    }
  }

  /** The class with its one CONSTANT_Integer UPSTREAM_FLOOR replaced by FLOOR; refuses any other shape. */
  static byte[] withFloor(byte[] bytes, int floor) {
    if (bytes.length < 10 || u4(bytes, 0) != 0xCAFEBABE) throw new IllegalStateException("not a class file");
    int count = u2(bytes, 8);
    int at = 10;
    int found = -1;
    for (int i = 1; i < count; i++) {
      int tag = bytes[at] & 0xff;
      switch (tag) {
        case 1: // Utf8
          at += 3 + u2(bytes, at + 1);
          break;
        case 3: // Integer
          if (u4(bytes, at + 1) == UPSTREAM_FLOOR) {
            if (found != -1) throw new IllegalStateException("more than one integer " + UPSTREAM_FLOOR);
            found = at + 1;
          }
          at += 5;
          break;
        case 4: case 9: case 10: case 11: case 12: case 17: case 18: // Float, refs, NameAndType, (Invoke)Dynamic
          at += 5;
          break;
        case 5: case 6: // Long, Double: two entries
          at += 9;
          i++;
          break;
        case 7: case 8: case 16: case 19: case 20: // Class, String, MethodType, Module, Package
          at += 3;
          break;
        case 15: // MethodHandle
          at += 4;
          break;
        default:
          throw new IllegalStateException("unknown constant pool tag " + tag + " at byte " + at);
      }
    }
    if (found == -1) throw new IllegalStateException("no integer " + UPSTREAM_FLOOR + " in its constants");
    byte[] out = bytes.clone();
    out[found] = (byte) (floor >>> 24);
    out[found + 1] = (byte) (floor >>> 16);
    out[found + 2] = (byte) (floor >>> 8);
    out[found + 3] = (byte) floor;
    return out;
  }

  private static int u2(byte[] b, int at) {
    return ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
  }

  private static int u4(byte[] b, int at) {
    return (u2(b, at) << 16) | u2(b, at + 2);
  }
}
