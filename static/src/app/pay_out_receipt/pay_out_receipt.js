import { Component } from "@odoo/owl";
import { ReceiptHeader } from "@point_of_sale/app/screens/receipt_screen/receipt/receipt_header/receipt_header";

/** The ticket of a credit pay-out, printed like Odoo's cash in/out receipt. */
export class PayOutReceipt extends Component {
    static template = "customer_credit.PayOutReceipt";
    static components = { ReceiptHeader };
    static props = {
        partnerName: String,
        formattedAmount: String,
        formattedBalance: String,
        reference: String,
        headerData: Object,
        date: String,
    };
}
