#include "pgtid/pseudo_gtid_pattern.h"

#include <re2/re2.h>

namespace tidewatch::pgtid {

PseudoGtidPattern::PseudoGtidPattern(PseudoGtidConfig config) : config_(std::move(config)) {}
PseudoGtidPattern::~PseudoGtidPattern() = default;

Status PseudoGtidPattern::Create(const PseudoGtidConfig& config,
                                         std::unique_ptr<PseudoGtidPattern>* out) {
  if (config.pattern.empty()) {
    return Status::InvalidArgument("PseudoGTIDPattern: empty pattern");
  }
  std::unique_ptr<PseudoGtidPattern> p(new PseudoGtidPattern(config));
  if (!config.fixed_substring) {
    RE2::Options options;
    options.set_log_errors(false);
    p->regex_ = std::make_unique<re2::RE2>(config.pattern, options);
    if (!p->regex_->ok()) {
      return Status::InvalidArgument("PseudoGTIDPattern \"" + config.pattern +
                                             "\": " + p->regex_->error());
    }
  }
  *out = std::move(p);
  return Status::OK();
}

bool PseudoGtidPattern::Matches(std::string_view statement) const {
  if (regex_ == nullptr) return statement.find(config_.pattern) != std::string_view::npos;
  return re2::RE2::PartialMatch(re2::StringPiece(statement.data(), statement.size()), *regex_);
}

bool PseudoGtidPattern::IsMonotonic(std::string_view statement) const {
  return !config_.monotonic_hint.empty() &&
         statement.find(config_.monotonic_hint) != std::string_view::npos;
}

}  // namespace tidewatch::pgtid
