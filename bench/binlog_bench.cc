// Binlog walking and decoding throughput on a real binlog file.
//
//   TIDEWATCH_BENCH_BINLOG=/path/to/binlog build/bench/binlog_bench
//
// (a) walk headers + verify CRC32, (b) walk + decode every event (row images
// walked by column type), (c) (b) and every column value of every row image
// materialised as a typed value (binlog/row_values.h) — what the Java and Go
// libraries hand their users, see bench/binlog-vs-peers.sh — and for
// comparison `mariadb-binlog FILE > /dev/null` on the same file, timed in the
// same run; each benchmark reports MB/s, events/s and its speed-up over it.
// The NoCrc variants of (b) and (c) skip CRC32 verification, as the Java and
// Go libraries do. With TIDEWATCH_BENCH_IN_MEMORY=1 the file is read into
// memory once and every iteration decodes it from there, as the Java and Go
// peers measure themselves (bench/binlog-vs-peers.sh); by default each
// iteration maps the file anew, its page faults included.
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <iostream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "binlog/checksum.h"
#include "binlog/event_decoder.h"
#include "binlog/event_type.h"
#include "binlog/file_reader.h"
#include "binlog/row_values.h"

namespace {

using namespace tidewatch::binlog;
using tidewatch::Crc32;
using tidewatch::Status;

std::string g_file;
double g_mariadb_binlog_seconds = 0;
bool g_in_memory = false;
std::vector<uint8_t> g_bytes;  // the file, with g_in_memory

// Opens the benchmark's file: mapped anew, or the copy in memory.
Status OpenInput(BinlogFileReader* reader) {
  return g_in_memory ? reader->OpenBuffer(g_bytes, g_file) : reader->Open(g_file);
}

void Fail(benchmark::State& state, const Status& s) { state.SkipWithError(s.ToString().c_str()); }

void Report(benchmark::State& state, uint64_t bytes, uint64_t events, double seconds) {
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["avg_event_B"] = events ? static_cast<double>(bytes) / static_cast<double>(events) : 0;
  if (g_mariadb_binlog_seconds > 0 && seconds > 0) {
    state.counters["x_mariadb_binlog"] = g_mariadb_binlog_seconds / (seconds / state.iterations());
  }
}

// Opens the file and walks it to its end per iteration; with `decode`, every
// event is decoded too.
void WalkFile(benchmark::State& state, bool verify, bool decode) {
  uint64_t bytes = 0, events = 0;
  double seconds = 0;
  EventDecoder decoder;
  Event event;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    BinlogFileReader reader;
    Status s = OpenInput(&reader);
    if (!s.ok()) return Fail(state, s);
    reader.set_verify_checksums(verify);
    RawEvent raw;
    while ((s = reader.Next(&raw)).ok()) {
      if (decode && !(s = decoder.Decode(raw, reader.format(), &event)).ok()) return Fail(state, s);
      ++events;
    }
    if (!s.IsEndOfFile()) return Fail(state, s);
    bytes += reader.size();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  Report(state, bytes, events, seconds);
}

// Decodes every event and materialises every value of every row image; the
// values of an image are held (in the reader's buffer) until the next image.
void MaterialiseFile(benchmark::State& state, bool verify) {
  uint64_t bytes = 0, events = 0, values = 0;
  double seconds = 0;
  // The value reader checks every value's framing as it reads it: the
  // decoder's own walk of the images would do the same work twice.
  EventDecoder decoder;
  decoder.set_walk_row_images(false);
  Event event;
  RowValueReader reader_values;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    BinlogFileReader reader;
    Status s = OpenInput(&reader);
    if (!s.ok()) return Fail(state, s);
    reader.set_verify_checksums(verify);
    RawEvent raw;
    while ((s = reader.Next(&raw)).ok()) {
      if (!(s = decoder.Decode(raw, reader.format(), &event)).ok()) return Fail(state, s);
      ++events;
      const auto* rows = std::get_if<RowsBody>(&event.body);
      if (rows == nullptr || rows->columns == nullptr) continue;
      if (!(s = reader_values.Reset(*rows)).ok()) return Fail(state, s);
      std::span<const ColumnValue> image;
      while (reader_values.Next(&image)) {
        benchmark::DoNotOptimize(image.data());
        values += image.size();
      }
      if (!reader_values.status().ok()) return Fail(state, reader_values.status());
    }
    if (!s.IsEndOfFile()) return Fail(state, s);
    bytes += reader.size();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  Report(state, bytes, events, seconds);
  state.counters["values/s"] = benchmark::Counter(static_cast<double>(values), benchmark::Counter::kIsRate);
}

void BM_WalkHeadersVerifyCrc32(benchmark::State& state) { WalkFile(state, true, false); }
void BM_WalkHeadersOnly(benchmark::State& state) { WalkFile(state, false, false); }
void BM_DecodeEveryEvent(benchmark::State& state) { WalkFile(state, true, true); }
// The Java and Go libraries skip the checksum without verifying it; these two
// do the same, for the comparison on equal terms.
void BM_DecodeEveryEventNoCrc(benchmark::State& state) { WalkFile(state, false, true); }
void BM_DecodeMaterialiseEveryValue(benchmark::State& state) { MaterialiseFile(state, true); }
void BM_DecodeMaterialiseEveryValueNoCrc(benchmark::State& state) { MaterialiseFile(state, false); }

// The CRC32 implementations side by side on 64-byte and 1 MiB buffers.
void BM_Crc32IsaL(benchmark::State& state) {
  std::vector<uint8_t> buf(static_cast<size_t>(state.range(0)), 0x5a);
  for (auto _ : state) benchmark::DoNotOptimize(Crc32(buf.data(), buf.size()));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
void BM_Crc32Zlib(benchmark::State& state) {
  std::vector<uint8_t> buf(static_cast<size_t>(state.range(0)), 0x5a);
  for (auto _ : state) benchmark::DoNotOptimize(crc32(0, buf.data(), static_cast<uInt>(buf.size())));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

double TimeMariadbBinlog(const std::string& file) {
  std::string cmd = "mariadb-binlog '" + file + "' > /dev/null 2>&1";
  auto t0 = std::chrono::steady_clock::now();
  int rc = std::system(cmd.c_str());
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (rc != 0) {
    std::cerr << "mariadb-binlog failed (" << rc << "); no comparison\n";
    return 0;
  }
  return s;
}

}  // namespace

BENCHMARK(BM_Crc32IsaL)->Arg(64)->Arg(1 << 20);
BENCHMARK(BM_Crc32Zlib)->Arg(64)->Arg(1 << 20);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const char* f = std::getenv("TIDEWATCH_BENCH_BINLOG");
  if (f != nullptr && *f != '\0') {
    g_file = f;
    std::error_code ec;
    auto size = std::filesystem::file_size(g_file, ec);
    if (ec) {
      std::cerr << g_file << ": " << ec.message() << "\n";
      return 1;
    }
    if (std::getenv("TIDEWATCH_BENCH_SKIP_PEER") == nullptr) g_mariadb_binlog_seconds = TimeMariadbBinlog(g_file);
    const char* in_memory = std::getenv("TIDEWATCH_BENCH_IN_MEMORY");
    g_in_memory = in_memory != nullptr && std::string(in_memory) == "1";
    if (g_in_memory) {
      std::ifstream in(g_file, std::ios::binary);
      g_bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      if (g_bytes.size() != size) {
        std::cerr << g_file << ": read " << g_bytes.size() << " of " << size << " bytes\n";
        return 1;
      }
    }
    std::printf("input: %s, %.1f MB%s\n", g_file.c_str(), size / 1e6,
                g_in_memory ? ", read into memory once" : ", mapped anew by each iteration");
    if (g_mariadb_binlog_seconds > 0) {
      std::printf("mariadb-binlog FILE > /dev/null: %.2f s = %.1f MB/s\n", g_mariadb_binlog_seconds,
                  size / 1e6 / g_mariadb_binlog_seconds);
    }
    benchmark::RegisterBenchmark("BM_WalkHeadersVerifyCrc32", BM_WalkHeadersVerifyCrc32)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_WalkHeadersOnly", BM_WalkHeadersOnly)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_DecodeEveryEvent", BM_DecodeEveryEvent)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_DecodeEveryEventNoCrc", BM_DecodeEveryEventNoCrc)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_DecodeMaterialiseEveryValue", BM_DecodeMaterialiseEveryValue)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_DecodeMaterialiseEveryValueNoCrc", BM_DecodeMaterialiseEveryValueNoCrc)
        ->Unit(benchmark::kMillisecond);
  } else {
    std::printf("TIDEWATCH_BENCH_BINLOG not set: only the CRC32 benchmarks run (see bench/README.md)\n");
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
