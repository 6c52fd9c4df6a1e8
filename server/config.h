// Config: Tidewatch's JSON configuration file. Keys are orchestrator's where
// the concept is the same (orchestrator's go/config/config.go), so an
// orchestrator configuration works as it is; unknown keys are reported as
// warnings, a bad value is an error naming its key. Secrets (passwords) are
// never printed: Redacted() is what may be shown.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/host_port.h"
#include "base/status.h"
#include "base/tls_settings.h"
#include "pgtid/pseudo_gtid_pattern.h"

namespace tidewatch::server {

// The port of a ListenAddress that names none.
inline constexpr uint16_t kDefaultListenPort = 3000;

struct Config {
  std::string path;  // where it was read from ("" for the defaults)

  // Topology access.
  std::string topology_user;                 // MySQLTopologyUser
  std::string topology_password;             // MySQLTopologyPassword or MySQLTopologyCredentialsConfigFile
  std::string credentials_file;              // MySQLTopologyCredentialsConfigFile
  uint16_t default_instance_port = 3306;     // DefaultInstancePort
  std::vector<std::string> discovery_seeds;  // DiscoverySeeds
  uint32_t instance_poll_seconds = 5;        // InstancePollSeconds
  bool discover_by_show_slave_hosts = false; // DiscoverByShowSlaveHosts
  uint32_t reasonable_replication_lag_seconds = 10;  // ReasonableReplicationLagSeconds
  std::string data_center_pattern;           // DataCenterPattern
  std::string detect_cluster_alias_query, detect_instance_alias_query;  // Detect…Query
  std::string detect_promotion_rule_query, detect_semi_sync_enforced_query;
  std::string region_pattern, physical_environment_pattern;  // RegionPattern, PhysicalEnvironmentPattern
  std::string detect_data_center_query, detect_region_query;  // DetectDataCenterQuery, DetectRegionQuery
  std::string detect_physical_environment_query;              // DetectPhysicalEnvironmentQuery
  std::string detect_cluster_domain_query;                    // DetectClusterDomainQuery
  std::string replication_lag_query;                          // ReplicationLagQuery

  // Pseudo-GTID.
  pgtid::PseudoGtidConfig pseudo_gtid;       // PseudoGTIDPattern, …IsFixedSubstring, PseudoGTIDMonotonicHint
  bool auto_pseudo_gtid = false;             // AutoPseudoGTID

  // Recovery.
  uint32_t recovery_period_block_seconds = 3600;  // RecoveryPeriodBlockSeconds
  // DiscoveryIgnoreHostnameFilters, DiscoveryIgnoreMasterHostnameFilters,
  // DiscoveryIgnoreReplicaHostnameFilters: RE2 patterns on host:port.
  std::vector<std::string> discovery_ignore_hostname_filters, discovery_ignore_master_hostname_filters,
      discovery_ignore_replica_hostname_filters;
  uint32_t unseen_instance_forget_hours = 240;                   // UnseenInstanceForgetHours (0: never)
  std::vector<std::string> recover_master_cluster_filters;               // RecoverMasterClusterFilters
  std::vector<std::string> recover_intermediate_master_cluster_filters;  // RecoverIntermediateMasterClusterFilters
  std::map<std::string, std::vector<std::string>> hooks;  // PostMasterFailoverProcesses and the other hook lists
  std::vector<std::string> recovery_ignore_hostname_filters;  // RecoveryIgnoreHostnameFilters
  uint32_t failure_detection_period_block_minutes = 60;       // FailureDetectionPeriodBlockMinutes
  bool apply_mysql_promotion_after_master_failover = true;    // ApplyMySQLPromotionAfterMasterFailover
  // RecoveryConsumer: "embedded" runs the recovery consumer in the daemon
  // (as `tidewatch run --recover`), offered every analysis as it is
  // published; "kafka" runs it on the analyses read back from
  // <prefix>.analysis in the consumer group RecoveryConsumerGroup (default
  // <prefix>.recovery), so that of several daemons following the same
  // servers exactly one acts on a cluster; "external": the daemon recovers
  // nothing itself, a `tidewatch recovery-consumer` process does (the daemon
  // reports automated recovery from the filters); "" recovers nothing.
  std::string recovery_consumer;
  std::string recovery_consumer_group;  // RecoveryConsumerGroup
  // MonitorGroup: daemons with the same group share the fleet
  // (server/fleet_group.h). Each joins this Kafka consumer group over
  // <prefix>.clusters, and monitors the clusters of the partitions it is
  // given; a daemon that dies loses its clusters to the others after
  // MonitorGroupSessionTimeoutMs. Empty: the daemon monitors every server
  // it finds, alone.
  std::string monitor_group;
  uint32_t monitor_group_session_timeout_ms = 6000;  // MonitorGroupSessionTimeoutMs
  // AdvertisedAddress: host:port where the other daemons of the group send
  // the HTTP requests about this daemon's clusters (default: ListenAddress,
  // with this machine's host name when it names every interface).
  std::string advertised_address;
  uint32_t recovery_hook_timeout_seconds = 300;               // RecoveryHookTimeoutSeconds: each hook's limit
  // ReplicationCredentialsQuery: run on a server that must start replicating
  // (the demoted master of a graceful takeover); one row, user and password.
  std::string replication_credentials_query;
  // A failover's candidate choice: hosts never promoted, whether the
  // successor must be in the failed master's data center (DataCenterPattern),
  // and how long a register-candidate rule lasts.
  std::vector<std::string> promotion_ignore_hostname_filters;  // PromotionIgnoreHostnameFilters
  bool prevent_cross_data_center_master_failover = false;      // PreventCrossDataCenterMasterFailover
  uint32_t candidate_instance_expire_minutes = 60;             // CandidateInstanceExpireMinutes

  // Instance metadata (server/metadata_api.h).
  uint32_t instance_pool_expiry_minutes = 60;                  // InstancePoolExpiryMinutes
  uint32_t expiry_hostname_resolves_minutes = 60;              // ExpiryHostnameResolvesMinutes (unresolve registrations)
  std::string kv_cluster_master_prefix = "mysql/master";       // KVClusterMasterPrefix
  std::vector<std::string> osc_ignore_hostname_filters;        // OSCIgnoreHostnameFilters

  // HTTP.
  // ListenAddress: host:port, or ":port" for every interface (orchestrator's
  // default is ":3000"; Tidewatch's own default stays on loopback).
  std::string listen_address = "127.0.0.1:3000";
  std::string authentication_method;              // AuthenticationMethod: "", basic, multi, proxy
  std::string http_auth_user, http_auth_password; // HTTPAuthUser, HTTPAuthPassword
  std::string auth_user_header = "X-Forwarded-User";  // AuthUserHeader (proxy)
  std::vector<std::string> power_auth_users = {"*"};  // PowerAuthUsers (proxy: who may change things)
  bool read_only = false;                          // ReadOnly

  // Tidewatch's own.
  // TidewatchServerId: the server_id the daemon's streams register with;
  // the next one registers the short reads of a move (a server drops a
  // replica when another registers with its server_id).
  uint32_t replication_server_id = 0;
  uint32_t short_read_server_id() const { return replication_server_id + 1; }
  // TidewatchRegisterAsReplica: the daemon's streams send COM_REGISTER_SLAVE,
  // so servers list them in SHOW SLAVE HOSTS as TidewatchReportHost (default:
  // this machine's host name) and TidewatchReportPort (default 0: no MySQL
  // answers there). Off by default: the dump does not need it, and tools that
  // discover replicas through SHOW SLAVE HOSTS (orchestrator) would try to
  // visit a replica that is not a server.
  bool register_as_replica = false;
  std::string report_host;
  uint16_t report_port = 0;
  uint32_t stream_heartbeat_ms = 250;        // StreamHeartbeatMilliseconds
  uint32_t stream_read_timeout_ms = 0;       // StreamReadTimeoutMilliseconds (0: three heartbeats)
  uint32_t probe_workers = 8;                // ProbeWorkers: concurrent instance checks
  uint32_t stream_threads = 0;               // StreamThreads: io threads for the streams (0: one per core)
  // Per server, the Pseudo-GTID index keeps at most this many entries and a
  // window of this many recent events (8 bytes each): its memory's bounds,
  // to lower for fleets of thousands of servers.
  uint64_t index_max_entries = 1 << 20;      // IndexMaxEntries
  uint64_t index_window_events = 1 << 21;    // IndexWindowEvents
  std::string producer_id;                   // ProducerId (default tidewatch@<host name>)
  // orchestrator's MySQLTopologyUseMutualTLS, MySQLTopologySSLSkipVerify,
  // MySQLTopologySSLCAFile, MySQLTopologySSLCertFile,
  // MySQLTopologySSLPrivateKeyFile, MySQLTopologyUseMixedTLS (TopologyTlsOf).
  bool topology_use_mutual_tls = false, topology_ssl_skip_verify = false, topology_use_mixed_tls = true;
  std::string topology_ssl_ca_file, topology_ssl_cert_file, topology_ssl_private_key_file;
  std::string url_prefix;                    // URLPrefix, normalized: "/x" or ""
  std::string status_endpoint = "/api/status";  // StatusEndpoint
  std::string state_dir;                     // StateDir: sequence reservation, default spool and index store
  std::string index_store_file;              // IndexStoreFile (default <StateDir>/indexes.sqlite)
  uint32_t pseudo_gtid_injection_interval_ms = 1000;  // PseudoGTIDInjectionIntervalMilliseconds (AutoPseudoGTID)
  std::string kafka_brokers;                 // KafkaBrokers
  std::string kafka_topic_prefix = "tidewatch";  // KafkaTopicPrefix
  uint32_t kafka_topic_partitions = 6;  // KafkaTopicPartitions: for the topics Tidewatch creates
  std::map<std::string, std::string> kafka_properties;  // KafkaProperties (librdkafka properties)
  std::string kafka_schema_registry_url;     // KafkaSchemaRegistryURL: Confluent wire format when set
  std::string spool_dir;                     // SpoolDir
  uint64_t spool_max_bytes = 1ull << 30;     // SpoolMaxBytes
  std::string spool_full_policy = "refuse-new";  // SpoolFullPolicy: refuse-new, drop-oldest
  std::string jsonl;                         // JsonLinesFile ("-": standard output)

  std::vector<std::string> warnings;

  // The effective configuration as JSON with every secret replaced.
  std::string Redacted() const;
  // The KafkaProperties a consumer of Tidewatch's topics needs to reach the
  // brokers (security.*, sasl.*, ssl.*); the others are the producer's.
  std::map<std::string, std::string> KafkaConsumerSecurity() const;
};

// The orchestrator hook lists Config::hooks accepts.
const std::vector<std::string>& HookKeys();

// Reads `path`; with an empty path, the first of /etc/tidewatch.conf.json and
// ./tidewatch.conf.json that exists, else the defaults.
// TLS to the watched servers, as orchestrator makes it from its
// MySQLTopology* settings (go/db/tls.go): with MySQLTopologyUseMutualTLS
// always, the certificate verified (host name included) against
// MySQLTopologySSLCAFile unless MySQLTopologySSLSkipVerify, with the client
// certificate and key when verifying; otherwise whenever the server offers
// it (which serves MySQLTopologyUseMixedTLS: a server that requires TLS gets
// it), without verification.
TlsSettings TopologyTlsOf(const Config& config);

Status LoadConfig(const std::string& path, Config* out);

}  // namespace tidewatch::server
