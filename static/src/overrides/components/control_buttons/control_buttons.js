import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { makeAwaitable } from "@point_of_sale/app/store/make_awaitable_dialog";
import { NumberPopup } from "@point_of_sale/app/utils/input_popups/number_popup";
import { ControlButtons } from "@point_of_sale/app/screens/product_screen/control_buttons/control_buttons";

patch(ControlButtons.prototype, {
    /** Top up credit: a customer, an amount, and the order gets a "Credit top-up" line of it. */
    async clickCustomerCreditTopup() {
        const partner = await this.pos.getCustomerCreditCustomer();
        if (!partner) {
            this._customerCreditAlert(_t("Select the customer whose credit is topped up."));
            return;
        }
        const format = (value) => this.env.utils.formatCurrency(value);
        const raw = await makeAwaitable(this.dialog, NumberPopup, {
            title: _t("Top up credit"),
            subtitle: _t("%(customer)s — credit: %(credit)s", {
                customer: partner.name,
                credit: format(this.pos.getCustomerCreditTotal(partner)),
            }),
            confirmButtonLabel: _t("Add"),
            feedback: (buffer) =>
                buffer ? this.pos.getCustomerCreditTopupRefusal(this._customerCreditParse(buffer)) : "",
        });
        if (raw === undefined || raw === null) {
            return;
        }
        const amount = this._customerCreditParse(raw);
        const refusal = this.pos.getCustomerCreditTopupRefusal(amount);
        if (refusal) {
            this._customerCreditAlert(refusal);
            return;
        }
        await this.pos.addCustomerCreditTopup(amount);
    },
    /** Settle dues: a top-up line of what the (overdrawn) customer owes. */
    async clickCustomerCreditSettleDues() {
        const partner = await this.pos.getCustomerCreditCustomer();
        if (!partner) {
            this._customerCreditAlert(_t("Select the customer whose dues are settled."));
            return;
        }
        const due = this.pos.roundCustomerCredit(partner.credit_due || 0);
        if (due <= 0) {
            this._customerCreditAlert(_t("%s owes nothing on their credit.", partner.name));
            return;
        }
        const order = this.pos.get_order();
        if (this.pos.getCustomerCreditTopupLines(order).some((line) => line.get_price_with_tax() === due)) {
            this._customerCreditAlert(_t("The dues of %s are already on this order.", partner.name));
            return;
        }
        await this.pos.addCustomerCreditTopup(due);
    },
    get customerCreditDue() {
        return this.partner?.credit_due || 0;
    },
    _customerCreditParse(value) {
        return this.env.utils.parseValidFloat(String(value));
    },
    _customerCreditAlert(body) {
        this.dialog.add(AlertDialog, { title: _t("Customer Credit"), body });
    },
});
