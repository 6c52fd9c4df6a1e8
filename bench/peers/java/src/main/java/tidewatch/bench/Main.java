// Decodes a binlog file with mysql-binlog-connector-java's BinaryLogFileReader
// and its default EventDeserializer: every event deserialised, every row
// image turned into Serializable[] values, as the library hands them to its
// users. The library skips the CRC32 of each event without verifying it.
//
//   java -cp ... tidewatch.bench.Main [--passes N] [--warmup W] FILE
//
// The file is read into memory once; each pass decodes it from that copy, so
// the figure is decoding alone. The first W passes warm the JIT and are not
// counted; of the others the median and the best wall-clock time are printed,
// and the median of the process's CPU time (every thread's, the garbage
// collector's included), one line:
//   peer=java events=E images=I bytes=B passes=P median_s=S best_s=S median_MBps=M best_MBps=M
//   cpu_median_s=S cpu_median_MBps=M
package tidewatch.bench;

import com.github.shyiko.mysql.binlog.BinaryLogFileReader;
import com.github.shyiko.mysql.binlog.event.DeleteRowsEventData;
import com.github.shyiko.mysql.binlog.event.Event;
import com.github.shyiko.mysql.binlog.event.EventData;
import com.github.shyiko.mysql.binlog.event.UpdateRowsEventData;
import com.github.shyiko.mysql.binlog.event.WriteRowsEventData;
import com.github.shyiko.mysql.binlog.event.deserialization.EventDeserializer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

public final class Main {
  private static long events;
  private static long images;

  private static void decode(byte[] file) throws IOException {
    long e = 0, r = 0;
    try (BinaryLogFileReader reader =
        new BinaryLogFileReader(new ByteArrayInputStream(file), new EventDeserializer())) {
      for (Event event; (event = reader.readEvent()) != null; ) {
        ++e;
        EventData data = event.getData();
        if (data instanceof WriteRowsEventData w) {
          r += w.getRows().size();
        } else if (data instanceof UpdateRowsEventData u) {
          r += 2L * u.getRows().size();  // before and after images
        } else if (data instanceof DeleteRowsEventData d) {
          r += d.getRows().size();
        }
      }
    }
    events = e;
    images = r;
  }

  // Sorts `v` and returns its median.
  private static double median(double[] v) {
    Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  public static void main(String[] args) throws IOException {
    int passes = 8, warmup = 3;
    String file = null;
    for (int i = 0; i < args.length; ++i) {
      switch (args[i]) {
        case "--passes" -> passes = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        default -> file = args[i];
      }
    }
    if (file == null || passes <= warmup) {
      System.err.println("usage: Main [--passes N] [--warmup W] FILE   (N > W)");
      System.exit(2);
    }
    byte[] bytes = Files.readAllBytes(Path.of(file));
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    double[] seconds = new double[passes - warmup];
    double[] cpu = new double[passes - warmup];
    for (int p = 0; p < passes; ++p) {
      long c0 = os.getProcessCpuTime();
      long t0 = System.nanoTime();
      decode(bytes);
      double s = (System.nanoTime() - t0) / 1e9;
      double c = (os.getProcessCpuTime() - c0) / 1e9;
      System.err.printf("pass %d: %.3f s, CPU %.3f s%s%n", p + 1, s, c, p < warmup ? " (warm-up)" : "");
      if (p >= warmup) {
        seconds[p - warmup] = s;
        cpu[p - warmup] = c;
      }
    }
    int n = seconds.length;
    double median = median(seconds), cpuMedian = median(cpu);
    double best = seconds[0];
    double mb = bytes.length / 1e6;
    System.out.printf("peer=java events=%d images=%d bytes=%d passes=%d median_s=%.4f best_s=%.4f "
            + "median_MBps=%.1f best_MBps=%.1f cpu_median_s=%.4f cpu_median_MBps=%.1f%n",
        events, images, bytes.length, n, median, best, mb / median, mb / best, cpuMedian, mb / cpuMedian);
  }
}
