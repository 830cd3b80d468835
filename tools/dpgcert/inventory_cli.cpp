// The inventory commands: org add/list/show, mailbox add/list (CLI11 definitions; the commands are
// in inventory_commands.cpp).
#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <memory>

namespace dpgcert::cli {

void add_inventory_commands(CLI::App& app, const StoreGlobal& global, CommandRuns& runs) {
  auto* org_grp = add_store_command(app, "org", "Organisations (CVR numbers)");
  org_grp->require_subcommand(1);
  const auto org_add = std::make_shared<OrgAddOptions>();
  auto* org_add_cmd = add_store_command(*org_grp, "add", "Add an organisation");
  org_add_cmd->add_option("CVR", org_add->cvr, "CVR number (8 digits)")->required();
  org_add_cmd->add_option("--name", org_add->name, "Name")->required();
  org_add_cmd->add_option("--contact", org_add->contacts, "Contact: \"Name <email>\" or \"Name <email> (role)\" (repeatable)");
  org_add_cmd->add_option("--notes", org_add->notes, "Free-text notes");
  add_common(*org_add_cmd, org_add->common);
  org_add_cmd->footer(
      "Example:\n  dpgcert org add 12345674 --name \"Kunde A/S\" --contact \"IT-drift <it@kunde.dk> (renewals)\"");
  runs.emplace_back(org_add_cmd, [&global, org_add] { return run_org_add(global, *org_add); });
  const auto org_list = std::make_shared<OrgListOptions>();
  auto* org_list_cmd = add_store_command(*org_grp, "list", "List organisations");
  add_common(*org_list_cmd, org_list->common);
  org_list_cmd->footer("Example:\n  dpgcert org list --json");
  runs.emplace_back(org_list_cmd, [&global, org_list] { return run_org_list(global, *org_list); });
  const auto org_show = std::make_shared<OrgShowOptions>();
  auto* org_show_cmd = add_store_command(*org_grp, "show", "Show an organisation with its mailboxes and certificates");
  org_show_cmd->add_option("CVR", org_show->cvr, "CVR number")->required();
  add_common(*org_show_cmd, org_show->common);
  org_show_cmd->footer("Example:\n  dpgcert org show 12345674");
  runs.emplace_back(org_show_cmd, [&global, org_show] { return run_org_show(global, *org_show); });

  auto* mailbox_grp = add_store_command(app, "mailbox", "Function mailboxes");
  mailbox_grp->require_subcommand(1);
  const auto mailbox_add = std::make_shared<MailboxAddOptions>();
  auto* mailbox_add_cmd = add_store_command(*mailbox_grp, "add", "Add a function mailbox to an organisation");
  mailbox_add_cmd->add_option("ADDRESS", mailbox_add->address, "E-mail address, e.g. sikkerpost@kunde.dk")->required();
  mailbox_add_cmd->add_option("--org", mailbox_add->org, "The organisation's CVR number")->required();
  mailbox_add_cmd->add_option("--ad-group", mailbox_add->ad_group, "Active Directory group whose users may use it");
  add_common(*mailbox_add_cmd, mailbox_add->common);
  mailbox_add_cmd->footer(
      "Example:\n  dpgcert mailbox add sikkerpost@kunde.dk --org 12345674 --ad-group GG-Sikkerpost-Kunde");
  runs.emplace_back(mailbox_add_cmd, [&global, mailbox_add] { return run_mailbox_add(global, *mailbox_add); });
  const auto mailbox_list = std::make_shared<MailboxListOptions>();
  auto* mailbox_list_cmd = add_store_command(*mailbox_grp, "list", "List mailboxes with their current certificate");
  mailbox_list_cmd->add_option("--org", mailbox_list->org, "Only this organisation's (CVR)");
  add_common(*mailbox_list_cmd, mailbox_list->common);
  mailbox_list_cmd->footer("Example:\n  dpgcert mailbox list --org 12345674");
  runs.emplace_back(mailbox_list_cmd, [&global, mailbox_list] { return run_mailbox_list(global, *mailbox_list); });
}

}  // namespace dpgcert::cli
