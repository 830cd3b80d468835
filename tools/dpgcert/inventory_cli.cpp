// The inventory commands: org add/list/show/rename/edit/remove, org contact add/remove, mailbox
// add/list/edit/move/remove (CLI11 definitions; the commands are
// in inventory_commands.cpp).
#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>

namespace dpgcert::cli {
namespace {

/// An option whose value is kept only when it was given (CLI11 2.1 has no std::optional options).
struct GivenOption {
  std::string value;
  CLI::Option* option = nullptr;
  [[nodiscard]] std::optional<std::string> get() const {
    return option->count() > 0 ? std::optional<std::string>(value) : std::nullopt;
  }
};

/// --retire-certificates and --reason of the removals.
void add_removal(CLI::App& cmd, bool& retire, std::string& reason, const char* what) {
  cmd.add_flag("--retire-certificates", retire,
               std::string("Retire the active certificates of the ") + what + " instead of refusing (each audited)");
  cmd.add_option("--reason", reason, "The reason recorded with each retirement");
}

/// org rename/edit/remove, org contact add/remove.
void add_org_edit_commands(CLI::App& org_grp, const StoreGlobal& global, CommandRuns& runs) {
  const auto rename = std::make_shared<OrgEditOptions>();
  const auto rename_name = std::make_shared<std::string>();
  auto* rename_cmd = add_store_command(org_grp, "rename", "Rename an organisation");
  rename_cmd->add_option("CVR", rename->cvr, "CVR number")->required();
  rename_cmd->add_option("--name", *rename_name, "The new name")->required();
  add_common(*rename_cmd, rename->common);
  rename_cmd->footer("Example:\n  dpgcert org rename 12345674 --name \"Kunde Holding A/S\"");
  runs.emplace_back(rename_cmd, [&global, rename, rename_name] {
    rename->name = *rename_name;
    return run_org_edit(global, *rename);
  });

  const auto edit = std::make_shared<OrgEditOptions>();
  const auto edit_name = std::make_shared<GivenOption>();
  const auto edit_notes = std::make_shared<GivenOption>();
  const auto edit_language = std::make_shared<GivenOption>();
  auto* edit_cmd = add_store_command(org_grp, "edit", "Change an organisation's name, notes or language");
  edit_cmd->add_option("CVR", edit->cvr, "CVR number")->required();
  edit_name->option = edit_cmd->add_option("--name", edit_name->value, "The new name");
  edit_notes->option = edit_cmd->add_option("--notes", edit_notes->value, "The new notes (\"\" clears them)");
  edit_language->option = edit_cmd->add_option("--language", edit_language->value,
                                               "The language of the mail to its contacts: da or en")
                              ->check(CLI::IsMember({"da", "en"}));
  add_common(*edit_cmd, edit->common);
  edit_cmd->footer("Example:\n  dpgcert org edit 12345674 --notes \"Fornyes af IT-drift\"");
  runs.emplace_back(edit_cmd, [&global, edit, edit_name, edit_notes, edit_language] {
    edit->name = edit_name->get();
    edit->notes = edit_notes->get();
    edit->language = edit_language->get();
    return run_org_edit(global, *edit);
  });

  const auto remove = std::make_shared<OrgRemoveOptions>();
  auto* remove_cmd = add_store_command(org_grp, "remove", "Remove an organisation (after its mailboxes)");
  remove_cmd->add_option("CVR", remove->cvr, "CVR number")->required();
  add_removal(*remove_cmd, remove->retire_certificates, remove->reason, "organisation");
  add_common(*remove_cmd, remove->common);
  remove_cmd->footer("Its inactive certificates stay in the store, attached to no organisation.\n"
                     "Example:\n  dpgcert org remove 12345674");
  runs.emplace_back(remove_cmd, [&global, remove] { return run_org_remove(global, *remove); });

  auto* contact_grp = add_store_command(org_grp, "contact", "An organisation's contacts");
  contact_grp->require_subcommand(1);
  contact_grp->footer("Examples:\n  dpgcert org contact add 12345674 \"IT-drift <it@kunde.dk>\"\n  dpgcert org contact remove 12345674 it@kunde.dk");
  const auto contact_add = std::make_shared<ContactOptions>();
  auto* contact_add_cmd = add_store_command(*contact_grp, "add", "Add a contact");
  contact_add_cmd->add_option("CVR", contact_add->cvr, "CVR number")->required();
  contact_add_cmd->add_option("CONTACT", contact_add->contact, "\"Name <email>\" or \"Name <email> (role)\"")->required();
  add_common(*contact_add_cmd, contact_add->common);
  contact_add_cmd->footer("Example:\n  dpgcert org contact add 12345674 \"IT-drift <it@kunde.dk> (renewals)\"");
  runs.emplace_back(contact_add_cmd, [&global, contact_add] { return run_contact_add(global, *contact_add); });
  const auto contact_remove = std::make_shared<ContactOptions>();
  auto* contact_remove_cmd = add_store_command(*contact_grp, "remove", "Remove a contact by e-mail address");
  contact_remove_cmd->add_option("CVR", contact_remove->cvr, "CVR number")->required();
  contact_remove_cmd->add_option("EMAIL", contact_remove->contact, "The contact's e-mail address")->required();
  add_common(*contact_remove_cmd, contact_remove->common);
  contact_remove_cmd->footer("Example:\n  dpgcert org contact remove 12345674 it@kunde.dk");
  runs.emplace_back(contact_remove_cmd, [&global, contact_remove] { return run_contact_remove(global, *contact_remove); });
}

/// mailbox edit/move/remove.
void add_mailbox_edit_commands(CLI::App& mailbox_grp, const StoreGlobal& global, CommandRuns& runs) {
  const auto edit = std::make_shared<MailboxEditOptions>();
  const auto edit_group = std::make_shared<GivenOption>();
  auto* edit_cmd = add_store_command(mailbox_grp, "edit", "Change a mailbox's AD group");
  edit_cmd->add_option("ADDRESS", edit->address, "The mailbox's address")->required();
  edit_group->option = edit_cmd->add_option("--ad-group", edit_group->value, "The new AD group (\"\" clears it)");
  add_common(*edit_cmd, edit->common);
  edit_cmd->footer("Example:\n  dpgcert mailbox edit sikkerpost@kunde.dk --ad-group GG-Sikkerpost-Ny");
  runs.emplace_back(edit_cmd, [&global, edit, edit_group] {
    edit->ad_group = edit_group->get();
    return run_mailbox_edit(global, *edit);
  });

  const auto move = std::make_shared<MailboxEditOptions>();
  auto* move_cmd = add_store_command(mailbox_grp, "move", "Move a mailbox, with its certificates, to another organisation");
  move_cmd->add_option("ADDRESS", move->address, "The mailbox's address")->required();
  move_cmd->add_option("--org", move->org, "The CVR of the organisation to move it to")->required();
  add_common(*move_cmd, move->common);
  move_cmd->footer("Example:\n  dpgcert mailbox move sikkerpost@kunde.dk --org 11111111");
  runs.emplace_back(move_cmd, [&global, move] { return run_mailbox_move(global, *move); });

  const auto remove = std::make_shared<MailboxRemoveOptions>();
  auto* remove_cmd = add_store_command(mailbox_grp, "remove", "Remove a mailbox");
  remove_cmd->add_option("ADDRESS", remove->address, "The mailbox's address")->required();
  add_removal(*remove_cmd, remove->retire_certificates, remove->reason, "mailbox");
  add_common(*remove_cmd, remove->common);
  remove_cmd->footer("Refused while active certificates hang on it, unless --retire-certificates; inactive ones\n"
                     "stay in the store, attached to no mailbox.\n"
                     "Example:\n  dpgcert mailbox remove sikkerpost@kunde.dk --retire-certificates --reason \"closed\"");
  runs.emplace_back(remove_cmd, [&global, remove] { return run_mailbox_remove(global, *remove); });
}

}  // namespace

void add_inventory_commands(CLI::App& app, const StoreGlobal& global, CommandRuns& runs) {
  auto* org_grp = add_store_command(app, "org", "Organisations (CVR numbers)");
  org_grp->require_subcommand(1);
  const auto org_add = std::make_shared<OrgAddOptions>();
  auto* org_add_cmd = add_store_command(*org_grp, "add", "Add an organisation");
  org_add_cmd->add_option("CVR", org_add->cvr, "CVR number (8 digits)")->required();
  org_add_cmd->add_option("--name", org_add->name, "Name")->required();
  org_add_cmd->add_option("--contact", org_add->contacts, "Contact: \"Name <email>\" or \"Name <email> (role)\" (repeatable)");
  org_add_cmd->add_option("--notes", org_add->notes, "Free-text notes");
  org_add_cmd->add_option("--language", org_add->language, "The language of the mail to its contacts: da (default) or en")
      ->check(CLI::IsMember({"da", "en"}));
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

  add_org_edit_commands(*org_grp, global, runs);

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
  add_mailbox_edit_commands(*mailbox_grp, global, runs);
}

}  // namespace dpgcert::cli
