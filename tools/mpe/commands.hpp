#pragma once
// Each subcommand registers itself on the CLI11 app and runs from its callback.
#include <CLI/CLI.hpp>

namespace mpe::cli {
void add_info_command(CLI::App& app);       // mpe info
void add_aggregate_command(CLI::App& app);  // mpe aggregate GRAPH
void add_plan_command(CLI::App& app);       // mpe plan MODEL REQUEST
void add_agent_command(CLI::App& app);      // mpe agent --env ...
void add_relevance_command(CLI::App& app);  // mpe relevance import|query|learn|export|demo
void add_bp_command(CLI::App& app);         // mpe bp FILE
void add_embed_command(CLI::App& app);      // mpe embed TEXT...
}  // namespace mpe::cli
