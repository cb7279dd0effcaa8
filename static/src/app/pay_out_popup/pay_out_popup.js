import { Component, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { Dialog } from "@web/core/dialog/dialog";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { useService } from "@web/core/utils/hooks";
import { parseFloat } from "@web/views/fields/parsers";
import { usePos } from "@point_of_sale/app/store/pos_hook";
import { useAsyncLockedMethod } from "@point_of_sale/app/utils/hooks";
import { uuidv4 } from "@point_of_sale/utils";
import { PayOutReceipt } from "@customer_credit/app/pay_out_receipt/pay_out_receipt";

/**
 * Pay a customer's credit out of the cash drawer. The amount defaults to (and may not exceed) what
 * can be paid out; the server records it as a cash out of the session through the credit service,
 * once per pay-out (the uuid made when the dialog opens).
 */
export class PayOutPopup extends Component {
    static template = "customer_credit.PayOutPopup";
    static components = { Dialog };
    static props = {
        partner: Object,
        payable: Number,
        close: Function,
    };

    setup() {
        this.pos = usePos();
        this.dialog = useService("dialog");
        this.printer = useService("printer");
        this.uuid = uuidv4();
        this.state = useState({ amount: String(this.props.payable) });
        this.confirm = useAsyncLockedMethod(this.confirm);
    }

    format(value) {
        return this.env.utils.formatCurrency(value);
    }

    get amount() {
        return this.env.utils.isValidFloat(this.state.amount) ? parseFloat(this.state.amount) : NaN;
    }

    /** Why the typed amount cannot be paid out ("" when it can). */
    get refusal() {
        const amount = this.amount;
        if (!(amount > 0)) {
            return _t("Enter a positive amount to pay out.");
        }
        if (this.pos.roundCustomerCredit(amount - this.props.payable) > 0) {
            return _t("At most %s of credit can be paid out (never an overdraft).", this.format(this.props.payable));
        }
        return "";
    }

    async confirm() {
        const refusal = this.refusal;
        if (refusal) {
            this.dialog.add(AlertDialog, { title: _t("Pay Out Credit"), body: refusal });
            return;
        }
        if (this.pos.data.network.offline) {
            this.dialog.add(AlertDialog, {
                title: _t("Pay Out Credit"),
                body: _t("Credit cannot be paid out while the till is offline: try again when it is back online."),
            });
            return;
        }
        const amount = this.pos.roundCustomerCredit(this.amount);
        let result;
        try {
            result = await this.pos.data.call("pos.session", "customer_credit_pay_out", [
                [this.pos.session.id],
                this.props.partner.id,
                amount,
                this.uuid,
            ]);
        } catch (error) {
            this.dialog.add(AlertDialog, {
                title: _t("Pay Out Credit"),
                body: this.pos.getCustomerCreditErrorMessage(error),
            });
            return;
        }
        const formattedAmount = this.format(result.amount);
        await this.pos.logEmployeeMessage(
            `${_t("Credit pay-out")} - ${result.partner_name} - ${_t("Amount")}: ${formattedAmount}`,
            "CASH_DRAWER_ACTION"
        );
        await this.printer.print(PayOutReceipt, {
            partnerName: result.partner_name,
            formattedAmount,
            formattedBalance: this.format(result.balance),
            reference: result.reference,
            headerData: this.pos.getReceiptHeaderData(),
            date: new Date().toLocaleString(),
        });
        this.props.close();
        this.dialog.add(AlertDialog, {
            title: _t("Credit Paid Out"),
            body: _t("%(amount)s of credit paid out in cash to %(customer)s. Credit left: %(balance)s.", {
                amount: formattedAmount,
                customer: result.partner_name,
                balance: this.format(result.balance),
            }),
        });
    }
}
