// The relay's JVM ceiling: Kafka's own Java producer sending the very records the outbox holds
// (key, headers, value), acks=all and idempotent, as the relay is configured. Run by
// bench/cases/relay.py as a single-file program (`java -cp <kafka jars> SameRecords.java`).
//
// Arguments: bootstrap servers, topic, records file, warm-up count. The file has one record a
// line: the key, then the value in base64, then each header as name=base64(value), tab-separated.
// It sends `warm-up` records first (cycling over the file, untimed: the JIT's warm-up), then
// every record of the file once, timed from the first send to the last acknowledgement, and
// prints "<n> records sent, <rate> records/sec".

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class SameRecords {
  record Line(byte[] key, byte[] value, List<Header> headers) {}

  static List<Line> read(Path file) throws Exception {
    Base64.Decoder b64 = Base64.getDecoder();
    List<Line> lines = new ArrayList<>();
    for (String text : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      String[] parts = text.split("\t");
      List<Header> headers = new ArrayList<>();
      for (int i = 2; i < parts.length; i++) {
        int eq = parts[i].indexOf('=');
        headers.add(new RecordHeader(parts[i].substring(0, eq), b64.decode(parts[i].substring(eq + 1))));
      }
      lines.add(new Line(parts[0].getBytes(StandardCharsets.UTF_8), b64.decode(parts[1]), headers));
    }
    return lines;
  }

  static void send(KafkaProducer<byte[], byte[]> producer, String topic, Line line, AtomicReference<Exception> failed) {
    producer.send(
        new ProducerRecord<>(topic, null, line.key(), line.value(), line.headers()),
        (metadata, error) -> { if (error != null) failed.compareAndSet(null, error); });
  }

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0], topic = args[1];
    List<Line> lines = read(Path.of(args[2]));
    int warm = Integer.parseInt(args[3]);
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("acks", "all");
    props.put("enable.idempotence", "true");
    props.put("max.block.ms", "30000"); // a topic that is not there fails, never hangs
    props.put("key.serializer", ByteArraySerializer.class.getName());
    props.put("value.serializer", ByteArraySerializer.class.getName());
    AtomicReference<Exception> failed = new AtomicReference<>();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
      for (int i = 0; i < warm && failed.get() == null; i++) {
        send(producer, topic, lines.get(i % lines.size()), failed);
      }
      producer.flush();
      long start = System.nanoTime();
      for (Line line : lines) {
        if (failed.get() != null) throw failed.get();
        send(producer, topic, line, failed);
      }
      producer.flush();
      double seconds = (System.nanoTime() - start) / 1e9;
      if (failed.get() != null) throw failed.get();
      System.out.printf("%d records sent, %.1f records/sec%n", lines.size(), lines.size() / seconds);
    }
  }
}
